using Recsys.Cli;

return await CliApp.CreateRootCommand().Parse(args).InvokeAsync();
