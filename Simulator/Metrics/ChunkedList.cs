using System.Collections;

namespace Simulator.Metrics;

/// <summary>
/// An append-only list stored in fixed-size chunks: growing it never copies what it holds (a
/// <see cref="List{T}"/> doubles and copies, leaving the old array to the collector), and chunks stay
/// below the large-object heap's threshold. For records appended every simulated pass.
/// </summary>
public sealed class ChunkedList<T> : IReadOnlyList<T>
{
    private readonly List<T[]> chunks = [];
    private readonly int shift;
    private readonly int mask;

    /// <param name="chunkBytes">Target bytes per chunk (rounded down to a power-of-two element count).</param>
    public ChunkedList(int chunkBytes = 64 * 1024)
    {
        var elementBytes = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var elements = Math.Max(1, chunkBytes / elementBytes);
        shift = 31 - int.LeadingZeroCount(elements);
        mask = (1 << shift) - 1;
    }

    public int Count { get; private set; }

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The list holds {Count} items.");
            return chunks[index >> shift][index & mask];
        }
    }

    public void Add(T item)
    {
        var offset = Count & mask;
        if (offset == 0 && Count >> shift == chunks.Count) chunks.Add(new T[mask + 1]);
        chunks[Count >> shift][offset] = item;
        Count++;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return chunks[i >> shift][i & mask];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
