using Recsys.Domain.Catalogue;
using Recsys.Domain.Events;
using Recsys.Domain.Users;

namespace Recsys.Domain.UnitTests;

public class UserStateTests
{
    private readonly ItemRegistry _items = new();

    /// <summary>The server's clock: when events are accepted, which the dedup time counts from.</summary>
    private readonly ManualClock _clock = new(TestData.T0);

    /// <summary>Ids older than the horizon's count are forgotten as soon as they are a minute old.</summary>
    private static readonly UserStateOptions CountOnly = new() { DedupTime = TimeSpan.Zero };

    /// <summary>How far the clock moves per applied event.</summary>
    private TimeSpan _step = TimeSpan.FromMinutes(1);

    private long NowMs => _clock.Now.ToUnixTimeMilliseconds();

    private UserStateCodec Codec(ItemRegistry items, UserStateOptions options) => new(items, options, _clock);

    /// <summary>Applies <paramref name="e"/>, accepted a step after the previous event.</summary>
    private ApplyOutcome Apply(UserState state, BehaviourEvent e, int appliedInBatch = -1)
    {
        _clock.Now += _step;
        return state.Apply(e, e.ItemId is null ? -1 : _items.GetOrAdd(e.ItemId), NowMs, appliedInBatch);
    }

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
    public void Room_reserved_for_a_batch_leaves_a_published_snapshot_as_it_was_and_more_events_than_reserved_still_fit()
    {
        var state = new UserState("u", new UserStateOptions { WindowCapacity = 12, DedupHorizon = 20, DedupMaxIds = 20 });
        for (var i = 0; i < 10; i++)
        {
            Apply(state, TestData.Event("u", $"i{i}", id: $"e{i}", minute: i));
        }
        var published = state.Snapshot();
        state.Reserve(3);
        for (var i = 10; i < 18; i++)
        {
            Assert.Equal(ApplyOutcome.Applied, Apply(state, TestData.Event("u", $"i{i}", id: $"e{i}", minute: i)));
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"i{i}"), published.Recent.Select(r => _items.GetId(r.ItemIndex)));
        Assert.Equal(Enumerable.Range(6, 12).Select(i => $"i{i}"), WindowItems(state));
        state.Reserve(int.MaxValue); // bounded by the window capacity and the id cap, not by the request
        for (var i = 0; i < 18; i++)
        {
            Assert.Equal(ApplyOutcome.Duplicate, Apply(state, TestData.Event("u", "other", id: $"e{i}", minute: 30)));
        }
        Assert.Equal(18, state.EventCount);
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
        var state = new UserState("u", CountOnly with { WindowCapacity = 20, DedupHorizon = 20 });
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
        // The dedup ring kept exactly the latest 20 ids (its horizon) through its growth and wrap.
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
        var state = new UserState("u", CountOnly with { WindowCapacity = 2, DedupHorizon = 3 });
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
        var options = CountOnly with { WindowCapacity = 200, DedupHorizon = 200 };
        var codec = Codec(_items, options);
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
        var options = CountOnly with { WindowCapacity = 4, DedupHorizon = 5 };
        var state = new UserState("shopper", options);
        Apply(state, TestData.Event("shopper", "a", BehaviourType.Cart, minute: 1, id: "k1"));
        Apply(state, TestData.Event("shopper", "b", BehaviourType.Purchase, minute: 2, id: "k2"));
        Apply(state, TestData.Event("shopper", null, BehaviourType.Search, minute: 3, id: "k3", query: "lamp"));
        var bytes = Codec(_items, options).Encode(state);

        var otherItems = new ItemRegistry();
        otherItems.GetOrAdd("unrelated"); // different dense indexes on the reading side
        var restored = Codec(otherItems, options).Decode(bytes);

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
            _clock.Now = _clock.Now.AddMinutes(1);
            restored.Apply(TestData.Event("shopper", "c", id: id, minute: 9), otherItems.GetOrAdd("c"), NowMs);
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
        var codec = Codec(_items, options);
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
        var bytes = Codec(_items, large).Encode(state);
        var restored = Codec(_items, new UserStateOptions { WindowCapacity = 2 }).Decode(bytes);
        Assert.Equal(["i3", "i4"], WindowItems(restored));
    }

    private static BehaviourEvent[] Batch(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => TestData.Event("u", $"i{i % 50}", minute: i % 600, id: $"{prefix}{i}"))];

    /// <summary>One request's batch, as the grain applies it: classified against the ids held before it, then applied.</summary>
    private int ApplyAll(UserState state, BehaviourEvent[] events)
    {
        var known = new bool[events.Length];
        state.MarkKnown(events, known);
        var applied = 0;
        for (var i = 0; i < events.Length; i++)
        {
            applied += !known[i] && Apply(state, events[i], applied) == ApplyOutcome.Applied ? 1 : 0;
        }
        return applied;
    }

    [Fact]
    public void An_id_twice_in_one_batch_is_applied_once_on_the_batch_path()
    {
        var state = new UserState("u", new UserStateOptions());
        ApplyAll(state, Batch("old", 30));
        BehaviourEvent[] batch = [.. Batch("n", 5), TestData.Event("u", "x", id: "n2"), TestData.Event("u", "y", id: "old3"), .. Batch("m", 2)];
        Assert.Equal(7, ApplyAll(state, batch)); // n0..n4 and m0, m1; the second n2 and old3 are duplicates
        Assert.Equal(37, state.EventCount);
    }

    [Fact]
    public void A_full_batch_resent_whole_in_halves_and_after_interleaved_traffic_changes_nothing()
    {
        // Defaults: the batch limit's 1,000 ids by count, and a day by time.
        _step = TimeSpan.FromSeconds(1);
        var state = new UserState("u", new UserStateOptions());
        var batch = Batch("a", UserStateOptions.DefaultDedupHorizon);
        Assert.Equal(1000, ApplyAll(state, batch));
        Assert.Equal(0, ApplyAll(state, batch));
        Assert.Equal(0, ApplyAll(state, batch[..500]) + ApplyAll(state, batch[500..]));
        Assert.Equal(300, ApplyAll(state, Batch("b", 300))); // interleaved traffic: past the count, within the day
        for (var resend = 0; resend < 3; resend++)
        {
            Assert.Equal(0, ApplyAll(state, batch[500..]) + ApplyAll(state, batch[..500]) + ApplyAll(state, batch));
        }
        Assert.Equal(1300, state.EventCount);
    }

    [Fact]
    public void Past_the_day_a_batch_that_re_applies_forgotten_events_does_not_re_apply_its_own_later_ones()
    {
        _step = TimeSpan.FromSeconds(1);
        var state = new UserState("u", new UserStateOptions { DedupHorizon = 100, DedupTime = TimeSpan.FromHours(1) });
        var old = Batch("a", 100);
        var recent = Batch("b", 100);
        ApplyAll(state, old);
        ApplyAll(state, recent);
        _clock.Now = _clock.Now.AddHours(2);
        // One new event: ids past both guarantees go, and only the last 100 ids (the count) are held: b1..b99 and it.
        Assert.Equal(1, ApplyAll(state, Batch("c", 1)));
        Assert.False(state.HasSeenEvent("a99") || state.HasSeenEvent("b0"));
        // Resent together, each re-applied old event pushes a recent id out; those still count as known, because the
        // batch is classified against what was held before it (applied one by one, all 200 would apply again).
        Assert.Equal(101, ApplyAll(state, [.. old, .. recent]));
        Assert.Equal(0, ApplyAll(state, old));
        Assert.Equal(302, state.EventCount);
    }

    [Fact]
    public void The_hard_cap_bounds_the_ids_even_within_the_day_and_a_decode_drops_what_both_guarantees_let_go()
    {
        var options = new UserStateOptions { DedupHorizon = 10, DedupMaxIds = 50, DedupTime = TimeSpan.FromHours(1) };
        var state = new UserState("u", options);
        ApplyAll(state, Batch("a", 60)); // a minute apart: a_i accepted at minute i + 1
        Assert.False(state.HasSeenEvent("a9")); // past the cap: the oldest went, though under an hour old
        Assert.True(state.HasSeenEvent("a10") && state.HasSeenEvent("a59"));

        var bytes = Codec(_items, options).Encode(state);
        _clock.Now = _clock.Now.AddMinutes(31); // a10..a29 are now over an hour old, a30..a59 within it
        var restored = Codec(_items, options).Decode(bytes);
        Assert.False(restored.HasSeenEvent("a29"));
        Assert.True(restored.HasSeenEvent("a30") && restored.HasSeenEvent("a59"));
        _clock.Now = _clock.Now.AddDays(1);
        var later = Codec(_items, options).Decode(Codec(_items, options).Encode(restored));
        Assert.False(later.HasSeenEvent("a49"));
        Assert.True(later.HasSeenEvent("a50")); // the last 10 by count, whatever their age
    }

    [Fact]
    public void A_record_of_the_first_format_reads_with_its_ids_dated_now()
    {
        var state = new UserState("u", new UserStateOptions());
        ApplyAll(state, Batch("a", 3));
        var version2 = Codec(_items, state.Options).Encode(state);
        // Format 1 is format 2 without the minutes: the 3 ids' 6 bytes after the keys, and version byte 1.
        var keysEnd = version2.Length - 6 - 4 - 4; // no purchases, no queries: two empty counts after the minutes
        var version1 = version2[..keysEnd].Concat(version2[(keysEnd + 6)..]).ToArray();
        version1[2] = 1;
        var restored = Codec(_items, state.Options).Decode(version1);
        Assert.True(restored.HasSeenEvent("a0") && restored.HasSeenEvent("a2"));
        Assert.Equal(3, restored.EventCount);
    }
}
