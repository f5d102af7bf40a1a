using System.Diagnostics;

namespace Recsys.Cli;

/// <summary>
/// Progress for long work: a bar redrawn in place on a terminal, a line every few seconds otherwise
/// (logs, CI), so that nobody has to wonder whether the program is stuck.
/// </summary>
internal sealed class ConsoleProgress(TextWriter writer, string what, long total, string unit)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private long _lastDrawMs = -10_000;

    /// <summary>Draws the finished state (all of <c>total</c> done) and ends the line.</summary>
    public void Complete() => Report(total, final: true);

    public void Report(long done, bool final = false)
    {
        var elapsedMs = _clock.ElapsedMilliseconds;
        lock (_gate)
        {
            if (!final && elapsedMs - _lastDrawMs < (_interactive ? 200 : 5000))
            {
                return;
            }
            _lastDrawMs = elapsedMs;
        }
        var fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 0;
        var rate = done / Math.Max(0.001, elapsedMs / 1000.0);
        var eta = rate > 0 && total > done ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        var text = $"{what} {done:N0}/{total:N0} {unit} ({fraction:P0}) {rate:N0} {unit}/s, {_clock.Elapsed:mm\\:ss} elapsed" +
                   (final ? string.Empty : $", ~{eta:mm\\:ss} left");
        if (_interactive)
        {
            const int width = 24;
            var filled = (int)(fraction * width);
            writer.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {text}   ");
            if (final)
            {
                writer.WriteLine();
            }
        }
        else
        {
            writer.WriteLine(text);
        }
    }
}
