using Recsys.Domain.Users;
using Recsys.Model.Serving;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Grains;

/// <summary>A user grain's encodes, sent to an inference grain: the key spreads users over the inference silos.</summary>
public sealed class InferenceGrainEncoder(GrainReferences grains, SiloServices services) : IIntentEncoder
{
    public async ValueTask<IntentEmbedding> EncodeAsync(ServingModel model, UserSnapshot user, CancellationToken cancellationToken = default)
    {
        var history = services.Serving.Encoder.HistoryOf(model, user);
        var intent = await grains.Inference(InferenceKeys.For(user.UserId)).EncodeAsync(
            new EncodeRequest(model.Version, user.UserId, history.Items, history.Types, history.TimestampsSec, user.EventCount));
        return new IntentEmbedding(intent.ModelVersion, intent.Vector, intent.PurchaseIntent, intent.StateVersion);
    }

    public void ReportRefreshed(long changedAtTimestamp) => services.Serving.Encoder.ReportRefreshed(changedAtTimestamp);
}
