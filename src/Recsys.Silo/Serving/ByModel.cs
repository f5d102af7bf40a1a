using Recsys.Model.Serving;

namespace Recsys.Silo.Serving;

/// <summary>Splits a batch by model version (an A/B split, a swap in progress), keeping each request's position.</summary>
internal static class ByModel
{
    public static void ForEachGroup<T>(IReadOnlyList<T> batch, Func<T, ServingModel> modelOf, Action<ServingModel, List<int>> serve)
    {
        var done = new bool[batch.Count];
        var group = new List<int>(batch.Count);
        for (var first = 0; first < batch.Count; first++)
        {
            if (done[first])
            {
                continue;
            }
            var model = modelOf(batch[first]);
            group.Clear();
            for (var i = first; i < batch.Count; i++)
            {
                if (!done[i] && modelOf(batch[i]) == model)
                {
                    done[i] = true;
                    group.Add(i);
                }
            }
            serve(model, group);
        }
    }
}
