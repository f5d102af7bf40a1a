using Recsys.Model.Training;

namespace Recsys.Model.UnitTests;

public class DataAndCheckpointTests
{
    [Fact]
    public void The_three_research_formats_read_into_the_same_sequences()
    {
        var pairs = DataImport.Read(new StringReader("1 10\n1 11\n2 10\n"), "p", DataFormat.Sasrec);
        var sequences = DataImport.Read(new StringReader("1 10 11\n2 10\n"), "s", DataFormat.Sequences);
        Assert.Equal(pairs.ItemIds, sequences.ItemIds);
        Assert.Equal(pairs.Users.Select(u => u.Items), sequences.Users.Select(u => u.Items));
        Assert.Equal(["<unknown>", "10", "11"], pairs.ItemIds);
    }

    [Fact]
    public void Taobao_rows_are_typed_and_put_in_time_order_per_user()
    {
        var csv = "user_id,item_id,category_id,behavior_type,timestamp\n" +
                  "1,100,5,pv,1511572000\n1,101,5,buy,1511571000\n1,100,5,cart,1511573000\n2,100,5,fav,1511570000\n";
        var data = DataImport.Read(new StringReader(csv), "t", DataFormat.Taobao);
        var user = data.Users[0];
        Assert.Equal([1511571000L, 1511572000, 1511573000], user.TimestampsSec);
        Assert.Equal(["101", "100", "100"], user.Items.Select(i => data.ItemIds[i]));
        Assert.Equal([(byte)4, (byte)0, (byte)3], user.Types);
        Assert.Equal([true, false, false], user.Purchases);
        Assert.Equal((byte)2, data.Users[1].Types[0]);
        Assert.True(data.HasTypes && data.HasTimestamps);
    }

    [Fact]
    public void Our_event_jsonl_reads_with_types_and_time_order_and_skips_item_less_searches()
    {
        var jsonl = """
            {"eventId":"e2","userId":"u","itemId":"b","type":"purchase","timestamp":"2026-01-01T10:05:00Z"}
            {"eventId":"e1","userId":"u","itemId":"a","type":"view","timestamp":"2026-01-01T10:00:00Z"}
            {"eventId":"e3","userId":"u","type":"search","query":"lamp","timestamp":"2026-01-01T10:06:00Z"}
            """;
        var data = DataImport.Read(new StringReader(jsonl), "events.jsonl", DataFormat.Jsonl);
        var user = Assert.Single(data.Users);
        Assert.Equal(["a", "b"], user.Items.Select(i => data.ItemIds[i]));
        Assert.Equal([(byte)0, (byte)4], user.Types);
        Assert.Equal([false, true], user.Purchases);
    }

    [Theory]
    [InlineData(DataFormat.Jsonl, "{\"eventId\":\"e\",\"userId\":\"u\",\"itemId\":\"a\",\"type\":\"wink\",\"timestamp\":\"2026-01-01T10:00:00Z\"}\n", "line 1: type: 'wink' is not an event type")]
    [InlineData(DataFormat.Sasrec, "1 10\n1 10 extra\n", "line 2: expected 'user item'")]
    [InlineData(DataFormat.Sequences, "1 10 11\n\n7\n", "line 3: expected 'user item1 item2 ...'")]
    [InlineData(DataFormat.Taobao, "user_id,item_id,category_id,behavior_type,timestamp\n1,2,3,like,5\n", "line 2: behavior_type 'like'")]
    [InlineData(DataFormat.Taobao, "1,2,3,pv,yesterday\n", "line 1: timestamp 'yesterday'")]
    [InlineData(DataFormat.Taobao, "1,2,3\n", "line 1: expected 5 comma-separated fields")]
    public void Importer_errors_name_the_line_and_the_problem(DataFormat format, string text, string message)
    {
        var error = Assert.Throws<DataFormatException>(() => DataImport.Read(new StringReader(text), "data.txt", format));
        Assert.Contains("data.txt " + message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_round_trips_the_model_vocabulary_and_metadata()
    {
        var config = new SequenceModelConfig { ItemCount = 12, MaxLength = 5, Dim = 8, Blocks = 1, Heads = 2, BehaviourTypes = 5, GapBuckets = 4, PurchaseHead = true, Seed = 4 };
        var model = new SequenceEncoder(config);
        var ids = Enumerable.Range(0, 12).Select(i => $"item-{i}").ToArray();
        var metadata = new TrainingMetadata { Version = "v-test", Data = "x.txt", BestEpoch = 3, ValidationNdcg = 0.25 };
        var path = Path.Combine(Path.GetTempPath(), $"recsys-{Guid.NewGuid():N}.rsm");
        try
        {
            CheckpointFile.Save(path, new ModelCheckpoint(model, ids, metadata));
            var loaded = CheckpointFile.Load(path);
            Assert.Equal(config, loaded.Model.Config);
            Assert.Equal(ids, loaded.ItemIds);
            Assert.Equal(metadata, loaded.Metadata);
            foreach (var (a, b) in model.Parameters.Zip(loaded.Model.Parameters))
            {
                Assert.Equal(a.Name, b.Name);
                Assert.Equal(a.Value.Data, b.Value.Data);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_corrupt_truncated_or_foreign_checkpoint_fails_clearly()
    {
        var model = new SequenceEncoder(new SequenceModelConfig { ItemCount = 5, MaxLength = 3, Dim = 4, Blocks = 1 });
        using var stream = new MemoryStream();
        CheckpointFile.Write(stream, new ModelCheckpoint(model, ["a", "b", "c", "d", "e"], new TrainingMetadata()));
        var bytes = stream.ToArray();

        var flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(flipped)).Message, StringComparison.Ordinal);
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(bytes[..^20])).Message, StringComparison.Ordinal);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => CheckpointFile.Read("not a model at all, just text"u8.ToArray())).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => CheckpointFile.Load("/nonexistent/model.rsm"));
    }
}
