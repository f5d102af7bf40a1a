using System.Text;

namespace Recsys.Cli.Import;

/// <summary>RFC 4180 fields of one line: commas, double quotes, "" inside quotes. Fields may not span lines.</summary>
internal static class Csv
{
    public static bool TrySplit(string line, List<string> fields, out string? error)
    {
        fields.Clear();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        error = "a quoted field is not closed (fields may not span lines)";
                        return false;
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',')
                {
                    error = $"unexpected '{line[i]}' after a closing quote at column {i + 1}";
                    return false;
                }
            }
            else
            {
                while (i < line.Length && line[i] != ',')
                {
                    field.Append(line[i++]);
                }
            }
            fields.Add(field.ToString());
            if (i >= line.Length)
            {
                error = null;
                return true;
            }
            i++; // the comma
        }
    }
}
