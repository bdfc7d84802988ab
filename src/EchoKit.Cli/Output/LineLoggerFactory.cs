using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EchoKit.Server;
using Microsoft.Extensions.Logging;

namespace EchoKit.Cli.Output;

/// <summary>
/// A small <see cref="ILoggerFactory"/> that prints each event as one line (text or JSON) through an
/// <see cref="OutputSink"/>, all on one stream so their order is kept (the server's events on stdout, a client's
/// on stderr). In JSON, a reason is the word the metrics use (<c>closed_by_peer</c>, <c>max_connections</c>). It stands in for
/// Microsoft.Extensions.Logging's console logger, whose multi-line layout does not suit a command-line tool,
/// and keeps the AOT program free of a DI container at start-up.
/// </summary>
internal sealed class LineLoggerFactory(OutputSink sink, LogFormat format, LogLevel minimumLevel) : ILoggerFactory
{
    private readonly LogFormat _format = format;
    private readonly LogLevel _minimumLevel = minimumLevel;

    public ILogger CreateLogger(string categoryName) => new LineLogger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("providers are fixed");

    public void Dispose()
    {
        // The sink belongs to the program, which disposes it after the last event.
    }

    /// <summary>Prints a program-level event (e.g. <c>listening</c>) in the same format as library events, whatever the level filter.</summary>
    /// <remarks>
    /// An error written here ends the program (the start failed): it goes to stderr, where a failed command's reason is
    /// looked for, after every event queued before it.
    /// </remarks>
    public void Write(LogLevel level, string eventName, string message, params (string Key, object? Value)[] fields)
    {
        var line = _format == LogFormat.Text
            ? (level >= LogLevel.Warning ? $"echokit: {message}" : message)
            : Json(level, eventName, message, fields.Select(f => new KeyValuePair<string, object?>(f.Key, f.Value)));
        if (level >= LogLevel.Error)
        {
            sink.WriteError(line);
        }
        else
        {
            Emit(level, line);
        }
    }

    /// <summary>
    /// The line a dropping <see cref="OutputSink"/> writes where <paramref name="count"/> lines were dropped because the
    /// output was not read fast enough: a warning in <paramref name="format"/>, like any other event (in JSON, event
    /// <c>LogLinesDropped</c> with the number as <c>dropped_lines</c>).
    /// </summary>
    public static string DroppedLinesNotice(LogFormat format, long count)
    {
        var message = $"{count} log line(s) dropped: the output was not read fast enough";
        return format == LogFormat.Json
            ? Json(LogLevel.Warning, "LogLinesDropped", message, [new("DroppedLines", count)])
            : TextLine(LogLevel.Warning, message);
    }

    /// <summary>A library event as a text line: local time, the level for warnings and worse, the message.</summary>
    private static string TextLine(LogLevel level, string message)
    {
        var time = DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        return level >= LogLevel.Warning ? $"{time} {LevelWord(level)}: {message}" : $"{time} {message}";
    }

    /// <summary>
    /// Every event, warnings and errors included, goes to one stream in the order it happened: split across stdout and
    /// stderr, "shutdown: closing 1 connection(s)" could show after "stopped". The sink's owner picks the stream.
    /// </summary>
    private void Emit(LogLevel level, string line) => sink.WriteLine(line);

    private static string LevelWord(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private static string Json(LogLevel level, string eventName, string message, IEnumerable<KeyValuePair<string, object?>> fields, Exception? exception = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed escaping: log lines are read by people and log shippers, not embedded in HTML, so "->" stays "->".
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("level", LevelWord(level));
            json.WriteString("event", eventName);
            json.WriteString("message", message);
            foreach (var (key, value) in fields)
            {
                if (key == "{OriginalFormat}")
                {
                    continue;
                }
                var name = JsonName(key);
                if (key == "Reason" && value is string prose && ReasonLabel(eventName, prose) is { } label)
                {
                    json.WriteString("reason", label);
                    json.WriteString("reason_text", prose);
                    continue;
                }
                switch (value)
                {
                    case null: json.WriteNull(name); break;
                    case int i: json.WriteNumber(name, i); break;
                    case long l: json.WriteNumber(name, l); break;
                    case double d: json.WriteNumber(name, d); break;
                    case bool b: json.WriteBoolean(name, b); break;
                    default: json.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
                }
            }
            if (exception is not null)
            {
                json.WriteString("exception", exception.ToString());
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The metrics' label for a connection's close or rejection reason, so a log shipper can join logs and metrics:
    /// "closed by peer" is <c>closed_by_peer</c>, "3 connection(s) open (--max-connections)" is <c>max_connections</c>.
    /// </summary>
    internal static string? ReasonLabel(string eventName, string prose) => eventName switch
    {
        "ConnectionClosed" => Enum.GetValues<ConnectionCloseReason>().FirstOrDefault(r => r.ToDisplayString() == prose) is var close && close.ToDisplayString() == prose
            ? Snake(close.ToString())
            : null,
        "ConnectionRejected" => prose switch
        {
            _ when prose.Contains("max-connections", StringComparison.Ordinal) => ConnectionRejectReason.MaxConnections.ToLabel(),
            _ when prose.Contains("denied", StringComparison.Ordinal) || prose.Contains("access list", StringComparison.Ordinal) => ConnectionRejectReason.Denied.ToLabel(),
            _ when prose.Contains("PROXY", StringComparison.OrdinalIgnoreCase) => ConnectionRejectReason.ProxyHeader.ToLabel(),
            _ when prose.Contains("TLS", StringComparison.OrdinalIgnoreCase) => "tls_handshake",
            _ => null,
        },
        _ => null,
    };

    private static string Snake(string pascal) => JsonName(pascal);

    /// <summary>"ConnectionId" becomes "connection_id", the usual style of JSON log fields.</summary>
    private static string JsonName(string key)
    {
        var builder = new StringBuilder(key.Length + 4);
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// The library's Debug event for a bound listener: the program prints its own "listening" line for each one at
    /// every level (scripts wait for it, <see cref="Write"/>), so with -v the library's would say it twice.
    /// </summary>
    private const string ProgramPrintsItsOwn = "Listening";

    private sealed class LineLogger(LineLoggerFactory factory) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= factory._minimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || eventId.Name == ProgramPrintsItsOwn)
            {
                return;
            }
            var message = formatter(state, exception);
            if (factory._format == LogFormat.Json)
            {
                var fields = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
                factory.Emit(logLevel, Json(logLevel, eventId.Name ?? eventId.Id.ToString(CultureInfo.InvariantCulture), message, fields, exception));
                return;
            }
            var line = TextLine(logLevel, message);
            if (exception is not null)
            {
                line += $": {exception.GetType().Name}: {exception.Message}";
            }
            factory.Emit(logLevel, line);
        }
    }
}
