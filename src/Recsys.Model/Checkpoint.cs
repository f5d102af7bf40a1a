using System.Text;
using System.Text.Json;

namespace Recsys.Model;

/// <summary>What a checkpoint says about how its model was made.</summary>
public sealed record TrainingMetadata
{
    public string Version { get; init; } = "";
    public DateTimeOffset TrainedAt { get; init; }
    public string Data { get; init; } = "";
    public string Loss { get; init; } = "";
    public int Epochs { get; init; }
    public int BestEpoch { get; init; }
    /// <summary>Whether the saved model was retrained on the validation targets for <see cref="BestEpoch"/> epochs.</summary>
    public bool Refit { get; init; }
    public double TrainingSeconds { get; init; }
    public double? ValidationNdcg { get; init; }
    public double? ValidationHitRate { get; init; }
    public string? ValidationProtocol { get; init; }
}

/// <summary>A model with its vocabulary and metadata, as saved by <c>train</c> and loaded by <c>eval</c> and the silos.</summary>
public sealed record ModelCheckpoint(SequenceEncoder Model, IReadOnlyList<string> ItemIds, TrainingMetadata Metadata);

/// <summary>
/// The versioned checkpoint file: magic, format version, config, metadata, item ids, named weight matrices, and
/// a 64-bit checksum over all of it. A truncated, corrupted, newer or mismatched file fails with a clear error.
/// </summary>
public static class CheckpointFile
{
    private static readonly byte[] Magic = "RSCK"u8.ToArray();
    private const int FormatVersion = 1;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Save(string path, ModelCheckpoint checkpoint)
    {
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        {
            Write(stream, checkpoint);
        }
        File.Move(temporary, path, overwrite: true); // never leave a half-written checkpoint under the real name
    }

    public static void Write(Stream output, ModelCheckpoint checkpoint)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(JsonSerializer.Serialize(checkpoint.Model.Config, Json));
            writer.Write(JsonSerializer.Serialize(checkpoint.Metadata, Json));
            writer.Write(checkpoint.ItemIds.Count);
            foreach (var id in checkpoint.ItemIds)
            {
                writer.Write(id);
            }
            var parameters = checkpoint.Model.Parameters.ToList();
            writer.Write(parameters.Count);
            foreach (var p in parameters)
            {
                writer.Write(p.Name);
                writer.Write(p.Value.Rows);
                writer.Write(p.Value.Cols);
                foreach (var value in p.Value.Span)
                {
                    writer.Write(value);
                }
            }
        }
        var bytes = buffer.ToArray();
        output.Write(bytes);
        output.Write(BitConverter.GetBytes(Checksum(bytes)));
    }

    public static ModelCheckpoint Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model checkpoint '{path}' does not exist", path);
        }
        try
        {
            return Read(File.ReadAllBytes(path));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <exception cref="InvalidDataException">The bytes are not a whole, consistent checkpoint of this format.</exception>
    public static ModelCheckpoint Read(byte[] bytes)
    {
        try
        {
            return ReadChecked(bytes);
        }
        catch (Exception ex) when (ex is EndOfStreamException or JsonException or ArgumentException or OverflowException or FormatException)
        {
            throw new InvalidDataException($"the checkpoint's contents are inconsistent ({ex.Message})", ex);
        }
    }

    private static ModelCheckpoint ReadChecked(byte[] bytes)
    {
        if (bytes.Length < Magic.Length + 12 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a Recsys model checkpoint (bad magic bytes)");
        }
        var body = bytes.AsSpan(0, bytes.Length - 8);
        if (BitConverter.ToUInt64(bytes, bytes.Length - 8) != Checksum(body))
        {
            throw new InvalidDataException("the checkpoint is corrupt or truncated (checksum mismatch)");
        }
        using var reader = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false), Encoding.UTF8);
        reader.ReadBytes(Magic.Length);
        var version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"checkpoint format version {version} is not supported (this build reads version {FormatVersion})");
        }
        var config = JsonSerializer.Deserialize<SequenceModelConfig>(reader.ReadString(), Json)
                     ?? throw new InvalidDataException("the checkpoint has no model configuration");
        config.Validate();
        if (((long)config.ItemCount + config.MaxLength + (long)config.Blocks * config.Dim) * config.Dim * sizeof(float) > bytes.Length)
        {
            // Checked before the model is allocated: a forged shape must not make the process allocate gigabytes.
            throw new InvalidDataException($"the configuration ({config.ItemCount} items of width {config.Dim}) needs more weights than the file holds");
        }
        var metadata = JsonSerializer.Deserialize<TrainingMetadata>(reader.ReadString(), Json) ?? new TrainingMetadata();
        var itemCount = reader.ReadInt32();
        if (itemCount != config.ItemCount)
        {
            throw new InvalidDataException($"the checkpoint lists {itemCount} item ids but its model has {config.ItemCount} items");
        }
        var itemIds = new string[itemCount];
        for (var i = 0; i < itemCount; i++)
        {
            itemIds[i] = reader.ReadString();
        }
        var model = new SequenceEncoder(config);
        var byName = model.Parameters.ToDictionary(static p => p.Name);
        var count = reader.ReadInt32();
        if (count != byName.Count)
        {
            throw new InvalidDataException($"the checkpoint holds {count} weight matrices; a model of this configuration has {byName.Count}");
        }
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var rows = reader.ReadInt32();
            var cols = reader.ReadInt32();
            if (!byName.TryGetValue(name, out var parameter))
            {
                throw new InvalidDataException($"the checkpoint has weights '{name}' that this model does not");
            }
            if (parameter.Value.Rows != rows || parameter.Value.Cols != cols)
            {
                throw new InvalidDataException($"weights '{name}' are {rows}×{cols} in the checkpoint but {parameter.Value.Rows}×{parameter.Value.Cols} in the model");
            }
            var values = parameter.Value.Span;
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = reader.ReadSingle();
            }
        }
        return new ModelCheckpoint(model, itemIds, metadata);
    }

    private static ulong Checksum(ReadOnlySpan<byte> data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash;
    }
}
