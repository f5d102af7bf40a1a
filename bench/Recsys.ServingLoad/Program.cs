using Recsys.ServingLoad;

// Loads a research dataset into a running `recsys serve` and probes freshness and offline/online parity.
return await LoadTool.RunAsync(args);
