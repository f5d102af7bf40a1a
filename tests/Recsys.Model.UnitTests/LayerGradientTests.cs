using Recsys.Model.Layers;
using Recsys.Model.Numerics;

namespace Recsys.Model.UnitTests;

public class LayerGradientTests
{
    private readonly Random _random = new(7);
    private static readonly IGemm Gemm = Numerics.Gemm.Default;

    [Fact]
    public void Linear()
    {
        var layer = new Linear("l", 6, 4, Gemm);
        layer.Init(_random);
        GradientCheck.Random(_random, 1, 4).Span.CopyTo(layer.Bias.Value.Span);
        CheckLayer(x => layer.Forward(x), dy => layer.Backward(dy), rows: 5, cols: 6, layer.Parameters);
    }

    [Fact]
    public void LayerNorm()
    {
        var layer = new LayerNorm("n", 8);
        GradientCheck.Random(_random, 1, 8).Span.CopyTo(layer.Gain.Value.Span);
        GradientCheck.Random(_random, 1, 8).Span.CopyTo(layer.Shift.Value.Span);
        CheckLayer(x => layer.Forward(x), dy => layer.Backward(dy), rows: 4, cols: 8, layer.Parameters);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Causal_self_attention_over_packed_sequences(int heads)
    {
        var layer = new CausalSelfAttention("a", 8, heads, Gemm);
        layer.Init(_random);
        var layout = SequenceLayout.FromLengths([3, 1, 5]);
        CheckLayer(x => layer.Forward(x, layout), dy => layer.Backward(dy), rows: layout.Tokens, cols: 8, layer.Parameters);
    }

    [Fact]
    public void Feed_forward_without_dropout()
    {
        var layer = new FeedForward("f", 6, 10, 0f, _random, Gemm);
        layer.Init(_random);
        CheckLayer(x => layer.Forward(x, training: true), dy => layer.Backward(dy), rows: 5, cols: 6, layer.Parameters);
    }

    [Fact]
    public void Transformer_block_without_dropout()
    {
        var block = new TransformerBlock("b", 8, 2, 0f, _random, Gemm);
        block.Init(_random);
        var layout = SequenceLayout.FromLengths([4, 2]);
        Matrix? output = null;
        CheckLayer(
            x =>
            {
                output = Matrix.Ensure(ref output, x.Rows, x.Cols);
                x.Span.CopyTo(output.Span);
                block.Forward(output, layout, training: true);
                return output;
            },
            dy =>
            {
                var dx = GradientCheck.Copy(dy);
                block.Backward(dx);
                return dx;
            },
            rows: layout.Tokens, cols: 8, block.Parameters);
    }

    /// <summary>
    /// Checks a layer with loss Σ y⊙r: the analytic input gradient and every parameter gradient against
    /// finite differences.
    /// </summary>
    private void CheckLayer(Func<Matrix, Matrix> forward, Func<Matrix, Matrix> backward, int rows, int cols, IEnumerable<Parameter> parameters)
    {
        var x = GradientCheck.Random(_random, rows, cols);
        var projection = GradientCheck.Random(_random, rows, forward(GradientCheck.Copy(x)).Cols);
        var parameterList = parameters.ToList();
        foreach (var p in parameterList)
        {
            p.ZeroGrad();
        }
        var input = GradientCheck.Copy(x);
        forward(input);
        var dx = GradientCheck.Copy(backward(GradientCheck.Copy(projection)));

        double Loss() => GradientCheck.Project(forward(GradientCheck.Copy(input)), projection);

        GradientCheck.Check("input", input.Data, input.Length, dx.Span, Loss, _random);
        foreach (var p in parameterList)
        {
            GradientCheck.Check(p.Name, p.Value.Data, p.Value.Length, p.Grad.Span, Loss, _random);
        }
    }
}
