using System.Numerics;

namespace Simulator.Metrics;

/// <summary>Selection of order statistics in place (quickselect), without sorting the whole array.</summary>
public static class OrderStatistics
{
    /// <summary>
    /// Rearranges <paramref name="data"/> so that each position in <paramref name="positions"/> holds the
    /// value a full ascending sort would put there (the rest only partitioned around them). Expected
    /// O(n) per position; NaN-free data.
    /// </summary>
    public static void Select<T>(Span<T> data, IEnumerable<int> positions) where T : INumber<T>
    {
        var from = 0;
        foreach (var k in positions.Order())
        {
            if (k < from) continue;
            SelectOne(data, k, from, data.Length - 1);
            from = k + 1;
        }
    }

    /// <summary>The value at ascending position <paramref name="k"/>, the span partitioned around it.</summary>
    public static T SelectInPlace<T>(Span<T> data, int k) where T : INumber<T>
    {
        SelectOne(data, k, 0, data.Length - 1);
        return data[k];
    }

    private static void SelectOne<T>(Span<T> a, int k, int lo, int hi) where T : INumber<T>
    {
        while (hi > lo)
        {
            // Median of three as the pivot, deterministic.
            var mid = lo + (hi - lo) / 2;
            if (a[mid] < a[lo]) (a[mid], a[lo]) = (a[lo], a[mid]);
            if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
            if (a[hi] < a[mid]) (a[hi], a[mid]) = (a[mid], a[hi]);
            var pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i > j) break;
                (a[i], a[j]) = (a[j], a[i]);
                i++;
                j--;
            }
            // Now a[lo..j] <= pivot <= a[i..hi], and anything strictly between j and i equals the pivot.
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return;
        }
    }
}
