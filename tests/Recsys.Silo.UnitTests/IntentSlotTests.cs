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

    /// <summary>One user's state and intent slot, a random model, and inference workers over the gated backend.</summary>
    private sealed class User : IAsyncDisposable
    {
        private static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch.AddDays(20_000);
        private readonly ItemCatalogue _catalogue = new(new ItemRegistry());

        public User() => Encoder = new IntentEncoder(_catalogue.Items, () => new GatedBackend(), new MicroBatcherOptions { MaxDelay = TimeSpan.Zero });

        public ServingModel Model { get; } = CatalogueShardTests.RandomModel(50);
        public IntentEncoder Encoder { get; }
        public IntentSlot Slot { get; } = new();
        public UserState State { get; } = new("u", new UserStateOptions());

        /// <summary>Applies a view of item-<paramref name="item"/>, <paramref name="item"/> minutes after the start.</summary>
        public void View(int item) =>
            State.Apply(new BehaviourEvent($"e{item}", "u", $"item-{item}", BehaviourType.View, Start.AddMinutes(item), null), _catalogue.Items.GetOrAdd($"item-{item}"), Start.AddMinutes(item).ToUnixTimeMilliseconds());

        public ValueTask DisposeAsync() => Encoder.DisposeAsync();
    }

    [Fact]
    public async Task A_burst_of_events_costs_at_most_two_encodes_and_the_last_reflects_every_event()
    {
        await using var user = new User();
        var (model, encoder, slot, state) = (user.Model, user.Encoder, user.Slot, user.State);
        GatedBackend.Gate.Reset();
        for (var i = 0; i < 20; i++)
        {
            user.View(i);
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
        await using var user = new User();
        var (model, encoder, slot, state) = (user.Model, user.Encoder, user.Slot, user.State);
        user.View(1);
        var first = await slot.GetAsync(state.Snapshot(), model, encoder, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(1, first!.StateVersion);

        GatedBackend.Gate.Reset();
        user.View(2);
        var stale = await slot.GetAsync(state.Snapshot(), model, encoder, TimeSpan.FromMilliseconds(20), CancellationToken.None);
        Assert.Same(first, stale);
        GatedBackend.Gate.Set();
        var fresh = await slot.GetAsync(state.Snapshot(), model, encoder, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(2, fresh!.StateVersion);
    }
}
