using Orleans.Concurrency;
using Recsys.Model.Serving;
using Recsys.Silo;
using Recsys.Silo.Serving;

namespace Recsys.Grains;

/// <summary>
/// Encodes histories for user grains: a reentrant stateless worker, one per silo and key, that hands each request to the
/// silo's inference workers, which micro-batch concurrent requests into one forward pass (flushed when the queue goes
/// idle or the batch is full). Lives on the inference silos, or on the workers when the cluster has none.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
[PlaceOnRole(SiloRoles.Inference, fallbackRole: SiloRoles.Worker)]
public sealed class InferenceGrain(SiloServices services) : Grain, IInferenceGrain
{
    public async Task<EncodedIntent> EncodeAsync(EncodeRequest request)
    {
        var model = services.Serving.Find(request.ModelVersion)
            ?? throw new InvalidOperationException($"model {request.ModelVersion} is not loaded on this inference silo");
        var history = ServingModel.History(request.UserId, request.Items, request.Types, request.TimestampsSec);
        var intent = await services.Serving.Encoder.EncodeAsync(new EncodeJob(model, history, request.StateVersion));
        return new EncodedIntent(intent.ModelVersion, intent.Vector, intent.PurchaseIntent, intent.StateVersion);
    }
}
