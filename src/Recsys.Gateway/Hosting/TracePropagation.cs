using Microsoft.Extensions.Hosting;
using Recsys.ServiceDefaults;

namespace Recsys.Gateway.Hosting;

public static class TracePropagation
{
    /// <summary>
    /// Orleans' grain-call spans, so one trace runs from the request through the grains, only when traces leave the
    /// process: its call filters cost every grain call an allocation or two even when no span is made.
    /// </summary>
    public static ISiloBuilder PropagateTracesWhenExported(this ISiloBuilder silo, IHostApplicationBuilder host)
    {
        if (host.TelemetryOptions().ExportsTraces(host.Configuration))
        {
            silo.AddActivityPropagation();
        }
        return silo;
    }
}
