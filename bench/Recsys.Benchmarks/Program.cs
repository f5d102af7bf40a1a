using BenchmarkDotNet.Running;
using Recsys.Benchmarks;

// "memory" and "catalogue" print figures that are not per-call timings; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] is "memory" or "catalogue")
{
    return await Figures.RunAsync(args);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
