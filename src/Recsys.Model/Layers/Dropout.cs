using Recsys.Model.Numerics;

namespace Recsys.Model.Layers;

/// <summary>Inverted dropout: zeroes each value with probability p while training and scales the rest by 1/(1−p).</summary>
public sealed class Dropout(float rate, Random random)
{
    private byte[] _kept = [];
    private bool _active;

    public float Rate => rate;

    /// <summary>Applies in place.</summary>
    public void Forward(Matrix x, bool training)
    {
        _active = training && rate > 0;
        if (!_active)
        {
            return;
        }
        var data = x.Span;
        if (_kept.Length < data.Length)
        {
            _kept = new byte[Math.Max(data.Length, _kept.Length * 2)];
        }
        var scale = 1f / (1f - rate);
        for (var i = 0; i < data.Length; i++)
        {
            var keep = random.NextSingle() >= rate;
            _kept[i] = keep ? (byte)1 : (byte)0;
            data[i] = keep ? data[i] * scale : 0f;
        }
    }

    /// <summary>Applies the same mask to the gradient, in place.</summary>
    public void Backward(Matrix dy)
    {
        if (!_active)
        {
            return;
        }
        var data = dy.Span;
        var scale = 1f / (1f - rate);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = _kept[i] != 0 ? data[i] * scale : 0f;
        }
    }
}
