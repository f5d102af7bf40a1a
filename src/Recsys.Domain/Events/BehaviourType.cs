namespace Recsys.Domain.Events;

/// <summary>What a shopper did. The numeric values are persisted; never renumber them.</summary>
public enum BehaviourType : byte
{
    View = 0,
    Search = 1,
    Click = 2,
    Cart = 3,
    Purchase = 4,
}

public static class BehaviourTypes
{
    /// <summary>The wire names, in enum order, as they appear in event JSON.</summary>
    public static readonly IReadOnlyList<string> WireNames = ["view", "search", "click", "cart", "purchase"];

    public static string ToWireName(this BehaviourType type) => WireNames[(int)type];

    public static bool TryParse(string? value, out BehaviourType type)
    {
        for (var i = 0; i < WireNames.Count; i++)
        {
            if (string.Equals(WireNames[i], value, StringComparison.Ordinal))
            {
                type = (BehaviourType)i;
                return true;
            }
        }
        type = default;
        return false;
    }

    /// <summary>How strongly a behaviour signals interest; used by trending and co-occurrence.</summary>
    public static float InterestWeight(this BehaviourType type) => type switch
    {
        BehaviourType.View => 1f,
        BehaviourType.Search => 0.5f,
        BehaviourType.Click => 2f,
        BehaviourType.Cart => 4f,
        BehaviourType.Purchase => 8f,
        _ => 0f,
    };
}
