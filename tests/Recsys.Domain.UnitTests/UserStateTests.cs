using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Domain.UnitTests;

public class UserStateTests
{
    private readonly ItemRegistry _items = new();

    private ApplyOutcome Apply(UserState state, BehaviourEvent e) => state.Apply(e, e.ItemId is null ? -1 : _items.GetOrAdd(e.ItemId));

    private string[] WindowItems(UserState state) => state.Window.ToArray().Select(r => _items.GetId(r.ItemIndex)).ToArray();

    [Fact]
    public void A_replayed_event_id_is_a_duplicate_and_changes_nothing()
    {
        var state = new UserState("u", new UserStateOptions());
        var e = TestData.Event("u", "a", BehaviourType.Purchase, id: "same");
        Assert.Equal(ApplyOutcome.Applied, Apply(state, e));
        var before = state.Snapshot();
        Assert.Equal(ApplyOutcome.Duplicate, Apply(state, e with { ItemId = "b" }));
        Assert.Same(before, state.Snapshot()); // not even the cached snapshot was invalidated
        Assert.Equal(1, state.EventCount);
        Assert.Equal(["a"], WindowItems(state));
    }

    [Fact]
    public void The_window_keeps_the_most_recent_events_up_to_its_capacity()
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 3 });
        for (var i = 0; i < 5; i++)
        {
            Apply(state, TestData.Event("u", $"i{i}", minute: i));
        }
        Assert.Equal(["i2", "i3", "i4"], WindowItems(state));
        Assert.Equal(5, state.EventCount);
    }

    [Fact]
    public void Late_events_are_placed_in_time_order_and_one_older_than_a_full_window_is_counted_but_not_kept()
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 3 });
        Apply(state, TestData.Event("u", "a", minute: 10));
        Apply(state, TestData.Event("u", "c", minute: 30));
        Apply(state, TestData.Event("u", "b", minute: 20));
        Assert.Equal(["a", "b", "c"], WindowItems(state));
        Apply(state, TestData.Event("u", "z", minute: 25));
        Assert.Equal(["b", "z", "c"], WindowItems(state));
        Assert.Equal(ApplyOutcome.Applied, Apply(state, TestData.Event("u", "old", minute: 1)));
        Assert.Equal(["b", "z", "c"], WindowItems(state));
        Assert.Equal(5, state.EventCount);
    }

    [Fact]
    public void A_snapshot_never_changes_while_the_state_grows_and_wraps_past_it()
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 20 });
        var snapshots = new List<(UserSnapshot Snapshot, string[] Items)>();
        for (var i = 0; i < 45; i++)
        {
            Apply(state, TestData.Event("u", $"i{i}", minute: i, id: $"e{i}"));
            if (i % 3 == 0)
            {
                var snapshot = state.Snapshot();
                snapshots.Add((snapshot, snapshot.Recent.Select(r => _items.GetId(r.ItemIndex)).ToArray()));
            }
        }
        Assert.Equal(Enumerable.Range(25, 20).Select(i => $"i{i}"), WindowItems(state));
        foreach (var (snapshot, items) in snapshots)
        {
            Assert.Equal(items, snapshot.Recent.Select(r => _items.GetId(r.ItemIndex)).ToArray());
            Assert.All(items, item => Assert.True(snapshot.HasSeen(_items.GetOrAdd(item))));
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"i{i}"), snapshots[3].Items); // taken after the 10th event
        // The dedup ring (default: as many ids as the window) kept exactly the latest 20 ids through its growth and wrap.
        for (var i = 25; i < 45; i++)
        {
            Assert.Equal(ApplyOutcome.Duplicate, Apply(state, TestData.Event("u", "x", minute: 50, id: $"e{i}")));
        }
        Assert.Equal(ApplyOutcome.Applied, Apply(state, TestData.Event("u", "x", minute: 50, id: "e24")));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(40)]
    [InlineData(200)]
    public void Every_event_within_the_horizon_is_a_duplicate_however_many_came_before(int events)
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 200 });
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(ApplyOutcome.Applied, Apply(state, TestData.Event("u", $"i{i}", minute: i, id: $"e{i}")));
        }
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(ApplyOutcome.Duplicate, Apply(state, TestData.Event("u", $"i{i}", minute: i, id: $"e{i}")));
        }
        Assert.Equal(events, state.EventCount);
    }

    [Fact]
    public void Dedup_remembers_exactly_its_horizon()
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 2, DedupHorizon = 3 });
        for (var i = 0; i < 4; i++)
        {
            Apply(state, TestData.Event("u", "x", id: $"id{i}", minute: i));
        }
        Assert.False(state.HasSeenEvent("id0")); // pushed out by id1..id3
        Assert.True(state.HasSeenEvent("id1"));
        Assert.True(state.HasSeenEvent("id3"));
    }

    [Fact]
    public void The_snapshot_marks_window_items_and_purchases_as_seen_and_keeps_queries()
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 2, QueryMemory = 2 });
        Apply(state, TestData.Event("u", "bought", BehaviourType.Purchase, minute: 1));
        Apply(state, TestData.Event("u", null, BehaviourType.Search, minute: 2, query: "q1"));
        Apply(state, TestData.Event("u", "v1", minute: 3));
        Apply(state, TestData.Event("u", "v2", minute: 4, query: "q2"));
        Apply(state, TestData.Event("u", null, BehaviourType.Search, minute: 5, query: "q3"));
        var snapshot = state.Snapshot();
        Assert.True(snapshot.HasSeen(_items.GetOrAdd("bought"))); // out of the window, still purchased
        Assert.True(snapshot.HasSeen(_items.GetOrAdd("v2")));
        Assert.False(snapshot.HasSeen(_items.GetOrAdd("never")));
        Assert.Equal(["q2", "q3"], snapshot.Queries);
        Assert.Equal(5, snapshot.EventCount);
    }

    [Fact]
    public void A_small_state_encoded_after_a_large_one_carries_nothing_of_it()
    {
        var options = new UserStateOptions { WindowCapacity = 200 };
        var codec = new UserStateCodec(_items, options);
        var large = new UserState("large", options);
        for (var i = 0; i < 250; i++) // past the dedup horizon (200): the key ring has wrapped
        {
            Apply(large, TestData.Event("large", $"item-with-a-long-identifier-{i}", BehaviourType.View, minute: i, id: $"l{i}"));
        }
        var small = new UserState("small", options);
        Apply(small, TestData.Event("small", "caf\u00e9-\u2615", BehaviourType.Click, minute: 1, id: "s1")); // not ASCII

        var largeBytes = codec.Encode(large);
        var smallBytes = codec.Encode(small); // the same thread's reused buffer

        var largeRestored = codec.Decode(largeBytes);
        Assert.True(largeRestored.HasSeenEvent("l249") && largeRestored.HasSeenEvent("l50"));
        Assert.False(largeRestored.HasSeenEvent("l49")); // the oldest keys left the ring, in order
        Assert.Equal(largeBytes, codec.Encode(largeRestored));

        Assert.True(smallBytes.Length < largeBytes.Length / 10, $"{smallBytes.Length} bytes after {largeBytes.Length}");
        var restored = codec.Decode(smallBytes);
        Assert.Equal("small", restored.UserId);
        Assert.Equal(["caf\u00e9-\u2615"], restored.Window.ToArray().Select(r => _items.GetId(r.ItemIndex)));
        Assert.Equal(smallBytes, codec.Encode(codec.Decode(smallBytes)));
    }

    [Fact]
    public void The_codec_round_trips_a_state_into_another_process_item_numbering()
    {
        var options = new UserStateOptions { WindowCapacity = 4, DedupHorizon = 5 };
        var state = new UserState("shopper", options);
        Apply(state, TestData.Event("shopper", "a", BehaviourType.Cart, minute: 1, id: "k1"));
        Apply(state, TestData.Event("shopper", "b", BehaviourType.Purchase, minute: 2, id: "k2"));
        Apply(state, TestData.Event("shopper", null, BehaviourType.Search, minute: 3, id: "k3", query: "lamp"));
        var bytes = new UserStateCodec(_items, options).Encode(state);

        var otherItems = new ItemRegistry();
        otherItems.GetOrAdd("unrelated"); // different dense indexes on the reading side
        var restored = new UserStateCodec(otherItems, options).Decode(bytes);

        Assert.Equal("shopper", restored.UserId);
        Assert.Equal(3, restored.EventCount);
        Assert.Equal(state.LastEventMs, restored.LastEventMs);
        Assert.Equal(["a", "b"], restored.Window.ToArray().Select(r => otherItems.GetId(r.ItemIndex)));
        Assert.Equal([BehaviourType.Cart, BehaviourType.Purchase], restored.Window.ToArray().Select(r => r.Type));
        Assert.Equal(["b"], restored.Purchased.Select(otherItems.GetId));
        Assert.Equal(["lamp"], restored.Queries);
        Assert.True(restored.HasSeenEvent("k1") && restored.HasSeenEvent("k3"));
        // Dedup continues across the round trip: the ring keeps its order, so the oldest key leaves first.
        foreach (var id in new[] { "k4", "k5", "k6" })
        {
            restored.Apply(TestData.Event("shopper", "c", id: id, minute: 9), otherItems.GetOrAdd("c"));
        }
        Assert.False(restored.HasSeenEvent("k1"));
        Assert.True(restored.HasSeenEvent("k2"));
    }

    [Fact]
    public void A_corrupt_or_truncated_record_fails_with_a_clear_error()
    {
        var options = new UserStateOptions();
        var state = new UserState("u", options);
        Apply(state, TestData.Event("u", "a"));
        var codec = new UserStateCodec(_items, options);
        var bytes = codec.Encode(state);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => codec.Decode(bytes.AsSpan(0, bytes.Length - 3))).Message, StringComparison.Ordinal);
        var badMagic = (byte[])bytes.Clone();
        badMagic[0] ^= 0xFF;
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => codec.Decode(badMagic)).Message, StringComparison.Ordinal);
        var newerVersion = (byte[])bytes.Clone();
        newerVersion[2] = 99;
        Assert.Contains("version 99", Assert.Throws<InvalidDataException>(() => codec.Decode(newerVersion)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Restoring_into_a_smaller_window_keeps_the_newest_behaviour()
    {
        var large = new UserStateOptions { WindowCapacity = 5 };
        var state = new UserState("u", large);
        for (var i = 0; i < 5; i++)
        {
            Apply(state, TestData.Event("u", $"i{i}", minute: i));
        }
        var bytes = new UserStateCodec(_items, large).Encode(state);
        var restored = new UserStateCodec(_items, new UserStateOptions { WindowCapacity = 2 }).Decode(bytes);
        Assert.Equal(["i3", "i4"], WindowItems(restored));
    }
}
