using BenchmarkDotNet.Attributes;
using Recsys.Model;
using Recsys.Model.Layers;

namespace Recsys.Benchmarks;

/// <summary>
/// Inference of the encoder (2 blocks, width 64, 1 head, Games' 23,716-item vocabulary): one packed batch of
/// full-length sequences through the model, no training overhead. Sequences/s = Batch / mean time.
/// bench/model/reference.py runs the same shapes in PyTorch.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    private SequenceEncoder _model = null!;
    private TokenBatch _batch = null!;

    [Params(1, 256)]
    public int Batch { get; set; }

    [Params(50, 200)]
    public int Length { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _model = new SequenceEncoder(new SequenceModelConfig { ItemCount = 23_716, MaxLength = Length, Dim = 64, Blocks = 2, Heads = 1, Dropout = 0.2f });
        _batch = new TokenBatch(Batch * Length);
        var random = new Random(1);
        var items = new int[Length];
        for (var s = 0; s < Batch; s++)
        {
            for (var i = 0; i < Length; i++)
            {
                items[i] = 1 + random.Next(23_715);
            }
            _batch.Add(items, [], [], Length);
        }
    }

    [Benchmark(Description = "Encode a batch (inference)")]
    public float Encode() => _model.Forward(_batch, training: false).Data[0];
}
