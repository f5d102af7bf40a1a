using System.Numerics.Tensors;
using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>
/// A token's input: √d·item embedding + learned position, plus behaviour-type and time-gap embeddings when
/// the model uses them. The item table is shared with the output layer (scores are h·e_item).
/// </summary>
public sealed class InputEmbedding
{
    private readonly float _itemScale;
    private TokenBatch _batch = null!;
    private Matrix? _output;

    public InputEmbedding(int items, int maxLength, int dim, int types, int gapBuckets)
    {
        _itemScale = MathF.Sqrt(dim);
        Items = new Parameter("items", items, dim, sparseRows: true);
        Positions = new Parameter("positions", maxLength, dim);
        Types = types > 0 ? new Parameter("types", types, dim) : null;
        Gaps = gapBuckets > 0 ? new Parameter("gaps", gapBuckets, dim) : null;
    }

    public Parameter Items { get; }
    public Parameter Positions { get; }
    public Parameter? Types { get; }
    public Parameter? Gaps { get; }
    public int Dim => Items.Value.Cols;

    public IEnumerable<Parameter> Parameters => new[] { Items, Positions, Types, Gaps }.OfType<Parameter>();

    public void Init(Random random)
    {
        // Small item vectors: the √d input scale brings them to unit size.
        Items.InitNormal(random, 1f / Dim);
        Items.Value.Row(0).Clear();
        Positions.InitNormal(random, 0.02f);
        Types?.InitNormal(random, 0.02f);
        Gaps?.InitNormal(random, 0.02f);
    }

    public Matrix Forward(TokenBatch batch)
    {
        _batch = batch;
        var x = Matrix.Ensure(ref _output, batch.TokenCount, Dim);
        for (var t = 0; t < batch.TokenCount; t++)
        {
            var row = x.Row(t);
            TensorPrimitives.MultiplyAdd(Items.Value.Row(batch.Items[t]), _itemScale, Positions.Value.Row(batch.Positions[t]), row);
            if (Types is not null)
            {
                TensorPrimitives.Add(row, Types.Value.Row(batch.Types[t]), row);
            }
            if (Gaps is not null)
            {
                TensorPrimitives.Add(row, Gaps.Value.Row(batch.Gaps[t]), row);
            }
        }
        return x;
    }

    public void Backward(Matrix dx)
    {
        var batch = _batch;
        for (var t = 0; t < batch.TokenCount; t++)
        {
            var g = dx.Row(t);
            var itemGrad = Items.GradRow(batch.Items[t]);
            TensorPrimitives.MultiplyAdd(g, _itemScale, itemGrad, itemGrad);
            var positionGrad = Positions.Grad.Row(batch.Positions[t]);
            TensorPrimitives.Add(positionGrad, g, positionGrad);
            if (Types is not null)
            {
                var typeGrad = Types.Grad.Row(batch.Types[t]);
                TensorPrimitives.Add(typeGrad, g, typeGrad);
            }
            if (Gaps is not null)
            {
                var gapGrad = Gaps.Grad.Row(batch.Gaps[t]);
                TensorPrimitives.Add(gapGrad, g, gapGrad);
            }
        }
    }
}
