namespace EchoKit.Internal;

/// <summary>
/// Items kept in numbered slots: <see cref="Add"/> takes a slot emptied earlier (or a new one, doubling the table when
/// it is full) and returns its number, <see cref="Remove"/> empties it for reuse. An item costs one reference and one
/// free-list entry, and finding it by its number is one array read. Adding and removing are the owner's to serialise
/// (an event loop's one thread, or a lock); reading takes no lock, from any thread: a larger table is filled before
/// it is published, so <see cref="Items"/> read at any moment holds every item that was there then.
/// </summary>
internal sealed class SlotTable<T>(int capacity) where T : class
{
    private T?[] _items = new T?[capacity];
    private int[] _free = new int[capacity]; // slots below _used that are empty again
    private int _freeCount;
    private int _used;

    /// <summary>The item in <paramref name="slot"/>, or null when it is empty.</summary>
    public T? this[int slot] => _items[slot];

    /// <summary>Every slot so far, empty ones null: for walking the items without a lock (read each with Volatile.Read).</summary>
    public T?[] Items => Volatile.Read(ref _items);

    /// <summary>Puts <paramref name="item"/> in a free slot and returns the slot's number.</summary>
    public int Add(T item)
    {
        int slot;
        if (_freeCount > 0)
        {
            slot = _free[--_freeCount];
        }
        else
        {
            if (_used == _items.Length)
            {
                // Copied first and published after: a reader of the old table still finds everyone in it.
                var larger = new T?[_items.Length * 2];
                Array.Copy(_items, larger, _items.Length);
                Volatile.Write(ref _items, larger);
                Array.Resize(ref _free, larger.Length);
            }
            slot = _used++;
        }
        _items[slot] = item;
        return slot;
    }

    /// <summary>Empties <paramref name="slot"/> (which must hold an item) for reuse.</summary>
    public void Remove(int slot)
    {
        _items[slot] = null;
        _free[_freeCount++] = slot;
    }
}
