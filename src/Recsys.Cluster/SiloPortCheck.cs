using System.Net;
using System.Net.Sockets;

namespace Recsys.Cluster;

/// <summary>
/// Refuses to start a silo on a port another process listens on. Two silos on one host with the same port (and the
/// same start second) get the same Orleans silo address, and the second then starts and passes for the first
/// instead of failing.
/// </summary>
public static class SiloPortCheck
{
    public static void EnsureFree(ClusterModeOptions options)
    {
        var address = options.Kubernetes || options.AdvertisedAddress is null ? IPAddress.Loopback : IPAddress.Parse(options.AdvertisedAddress);
        var listener = new TcpListener(address, options.SiloPort);
        try
        {
            listener.Start();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new InvalidOperationException(
                $"Recsys:Cluster:SiloPort {options.SiloPort} is already in use on {address}: give each silo on this host its own port", ex);
        }
        finally
        {
            listener.Stop();
        }
    }
}
