using System.CommandLine;
using Recsys.Cli.Commands;

namespace Recsys.Cli;

public static class CliApp
{
    public static RootCommand CreateRootCommand() => new("Recsys.Orleans: a real-time recommendation cluster for e-commerce.")
    {
        ServeCommand.Create(),
        SimulateCommand.Create(),
        ImportCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        RecommendCommand.Create(),
        HealthCheckCommand.Create(),
    };
}
