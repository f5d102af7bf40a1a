namespace Recsys.Silo;

/// <summary>When idle user grains leave memory; bound from "Recsys:Silo:Grains" and given to Orleans' grain collection.</summary>
public sealed record IdleGrainOptions
{
    /// <summary>A grain with no call for this long is deactivated (its state was committed with each batch).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the silo looks for idle grains.</summary>
    public TimeSpan CollectionInterval { get; init; } = TimeSpan.FromMinutes(1);

    public void Validate()
    {
        if (IdleTimeout <= TimeSpan.Zero || CollectionInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(IdleTimeout), "Recsys:Silo:Grains: idle timeout and collection interval must be positive");
        }
    }
}
