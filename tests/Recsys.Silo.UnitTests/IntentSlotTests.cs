using Recsys.Actors;
using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Users;
using Recsys.Model.Serving;
using Recsys.Model.Training;
using Recsys.Silo.Serving;

namespace Recsys.Silo.UnitTests;

public class IntentSlotTests
{
    /// <summary>The CPU backend behind a gate, so a test can hold an encode while events keep arriving.</summary>
    private sealed class GatedBackend : IEncoderBackend
    {
        private readonly CpuEncoderBackend _inner = new();
        public static ManualResetEventSlim Gate { get; } = new(true);
        public static int Batches;

        public string Name => "gated";

        public void Encode(ServingModel model, IReadOnlyList<UserSequence> histories, Span<float> intents, Span<float> purchaseIntent)
        {
            Gate.Wait(TimeSpan.FromSeconds(30));
            Interlocked.Increment(ref Batches);
            _inner.Encode(model, histories, intents, purchaseIntent);
        }
    }

    [Fact]
    public async Task A_burst_of_events_costs_at_most_two_encodes_and_the_last_reflects_every_event()
    {
        var model = CatalogueShardTests.RandomModel(50);
        var catalogue = new ItemCatalogue(new ItemRegistry());
        await using var encoder = new IntentEncoder(catalogue.Items, () => new GatedBackend(), new MicroBatcherOptions { MaxDelay = TimeSpan.Zero });
        var slot = new IntentSlot();
        var state = new UserState("u", new UserStateOptions());
        var time = DateTimeOffset.UnixEpoch.AddDays(20_000);
        GatedBackend.Gate.Reset();
        for (var i = 0; i < 20; i++)
        {
            state.Apply(new BehaviourEvent($"e{i}", "u", $"item-{i}", BehaviourType.View, time.AddMinutes(i), null), catalogue.Items.GetOrAdd($"item-{i}"));
            slot.Update(state.Snapshot(), model, encoder); // as the actor does after each turn
        }
        GatedBackend.Gate.Set();
        var latest = state.Snapshot();
        var intent = await slot.GetAsync(latest, model, encoder, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.NotNull(intent);
        Assert.Equal(20, intent.StateVersion);
        Assert.Equal(model.Version, intent.ModelVersion);
        Assert.InRange(slot.Encodes, 1, 2);

        // The served intent equals a direct encode of the full history: nothing was dropped by coalescing.
        var direct = new float[model.Dim];
        new CpuEncoderBackend().Encode(model, [encoder.HistoryOf(model, latest)], direct, new float[1]);
        Assert.Equal(direct, intent.Vector);
    }

    [Fact]
    public async Task A_reader_waits_at_most_its_budget_and_then_takes_the_previous_intent()
    {
        var model = CatalogueShardTests.RandomModel(50);
        var catalogue = new ItemCatalogue(new ItemRegistry());
        await using var encoder = new IntentEncoder(catalogue.Items, () => new GatedBackend(), new MicroBatcherOptions { MaxDelay = TimeSpan.Zero });
        var slot = new IntentSlot();
        var state = new UserState("u", new UserStateOptions());
        var time = DateTimeOffset.UnixEpoch.AddDays(20_000);
        state.Apply(new BehaviourEvent("e1", "u", "item-1", BehaviourType.View, time, null), catalogue.Items.GetOrAdd("item-1"));
        var first = await slot.GetAsync(state.Snapshot(), model, encoder, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(1, first!.StateVersion);

        GatedBackend.Gate.Reset();
        state.Apply(new BehaviourEvent("e2", "u", "item-2", BehaviourType.View, time.AddMinutes(1), null), catalogue.Items.GetOrAdd("item-2"));
        var stale = await slot.GetAsync(state.Snapshot(), model, encoder, TimeSpan.FromMilliseconds(20), CancellationToken.None);
        Assert.Same(first, stale);
        GatedBackend.Gate.Set();
        var fresh = await slot.GetAsync(state.Snapshot(), model, encoder, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(2, fresh!.StateVersion);
    }
}
