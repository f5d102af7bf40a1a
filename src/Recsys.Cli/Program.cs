using System.CommandLine;
using Recsys.Cli.Commands;

var root = new RootCommand("Recsys.Orleans: a real-time recommendation cluster for e-commerce.")
{
    ServeCommand.Create(),
    SimulateCommand.Create(),
    ImportCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
