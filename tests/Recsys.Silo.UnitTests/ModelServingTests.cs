using Recsys.Domain.Catalogue;
using Recsys.Model.Serving;
using Recsys.Silo.Serving;

namespace Recsys.Silo.UnitTests;

public class ModelServingTests
{
    private static int LoadedSlices(ModelServing serving, ServingModel model) => serving.Shards.Shards.Sum(s => s.ItemCount(model));

    [Fact]
    public async Task Swaps_keep_only_the_serving_models_and_the_ones_the_last_switch_retired()
    {
        var catalogue = new ItemCatalogue(new ItemRegistry());
        await using var serving = new ModelServing(catalogue, new ModelServingOptions());
        var models = Enumerable.Range(1, 4).Select(i => CatalogueShardTests.RandomModel(30, seed: i, version: $"m{i}")).ToArray();

        serving.Activate(models[0]);
        serving.Activate(models[1]);
        Assert.Equal(30, LoadedSlices(serving, models[0])); // retired by the last switch: in-flight requests may still score it
        serving.Activate(models[2]);
        Assert.Equal(0, LoadedSlices(serving, models[0]));
        Assert.Equal(30, LoadedSlices(serving, models[1]));

        serving.SetCandidate(models[3], 0.5);
        Assert.Equal(0, LoadedSlices(serving, models[1]));
        Assert.Equal(30, LoadedSlices(serving, models[3]));
        Assert.True(serving.EndCandidate(promote: true));
        Assert.Equal(models[3], serving.Assignment!.Primary);
        Assert.Null(serving.Assignment.Candidate);
        Assert.Equal(30, LoadedSlices(serving, models[2])); // the old primary, retired by the promotion
        Assert.False(serving.EndCandidate(promote: false));

        serving.Activate(models[0]);
        Assert.Equal(0, LoadedSlices(serving, models[2]));
        Assert.Equal(30, LoadedSlices(serving, models[3]));
        Assert.Equal(30, LoadedSlices(serving, models[0]));
        // Rows by catalogue index follow the loaded models, so reasons and scores never read a dropped table.
        var index = catalogue.Items.GetOrAdd("item-7");
        Assert.Equal(models[0].IndexOf("item-7"), serving.Shards.RowOf(models[0], index));
        Assert.Equal(0, serving.Shards.RowOf(models[2], index));
    }
}
