namespace EchoKit.Server;

/// <summary>Whether and how the server logs the bytes each client sends.</summary>
public enum DumpMode
{
    /// <summary>Log nothing of the payload (the default: dumping costs a copy and a log line per read).</summary>
    None,
    /// <summary>Log the bytes as UTF-8 text, decoded per connection so characters split across reads stay whole.</summary>
    Text,
    /// <summary>Log the bytes as a hex dump: offset, hex, ASCII.</summary>
    Hex,
}
