using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The caching allocator of one <see cref="Device"/>. Requests are rounded up to a size bucket (256-byte minimum,
/// then four buckets per power of two, so at most 25% is wasted); a freed block goes back to its bucket's free
/// list and the next request of that bucket reuses it, so a loop that allocates and frees the same sizes makes
/// no device allocation after its first round. Thread-safe.
/// </summary>
public sealed class DeviceMemory : IDisposable
{
    private const long MinimumBlock = 256;
    private readonly Accelerator accelerator;
    private readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> freeBlocks = new();
    private readonly object gate = new();
    private long liveBytes, peakLiveBytes, reservedBytes, peakReservedBytes, deviceAllocations;
    private bool disposed;

    internal DeviceMemory(Accelerator accelerator) => this.accelerator = accelerator;

    /// <summary>Bytes in blocks handed out to live tensors (bucket sizes, so what the device really holds for them).</summary>
    public long LiveBytes { get { lock (gate) return liveBytes; } }

    /// <summary>The highest <see cref="LiveBytes"/> since creation or the last <see cref="ResetPeak"/>.</summary>
    public long PeakLiveBytes { get { lock (gate) return peakLiveBytes; } }

    /// <summary>Bytes allocated on the device: live blocks plus blocks cached for reuse.</summary>
    public long ReservedBytes { get { lock (gate) return reservedBytes; } }

    /// <summary>The highest <see cref="ReservedBytes"/> since creation or the last <see cref="ResetPeak"/>.</summary>
    public long PeakReservedBytes { get { lock (gate) return peakReservedBytes; } }

    /// <summary>How many times the allocator has asked the device for new memory.</summary>
    public long DeviceAllocations { get { lock (gate) return deviceAllocations; } }

    /// <summary>The bucket a request of <paramref name="bytes"/> is served from.</summary>
    public static long BucketSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes <= MinimumBlock) return MinimumBlock;
        // Four buckets per power of two: 1, 1.25, 1.5, 1.75 × 2^k.
        int exponent = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes - 1));
        long power = 1L << exponent;
        long step = Math.Max(power / 4, 1);
        return (bytes + step - 1) / step * step;
    }

    /// <summary>Restarts peak tracking from the current live and reserved sizes.</summary>
    public void ResetPeak()
    {
        lock (gate)
        {
            peakLiveBytes = liveBytes;
            peakReservedBytes = reservedBytes;
        }
    }

    /// <summary>Returns every cached (free) block to the device.</summary>
    public void Trim()
    {
        lock (gate)
        {
            foreach (var stack in freeBlocks.Values)
                while (stack.TryPop(out var block))
                {
                    reservedBytes -= block.LengthInBytes;
                    block.Dispose();
                }
            freeBlocks.Clear();
        }
    }

    internal MemoryBuffer1D<byte, Stride1D.Dense> Rent(long bytes)
    {
        long size = BucketSize(bytes);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!freeBlocks.TryGetValue(size, out var stack) || !stack.TryPop(out var block))
            {
                block = AllocateOnDevice(size);
                deviceAllocations++;
                reservedBytes += size;
                peakReservedBytes = Math.Max(peakReservedBytes, reservedBytes);
            }
            liveBytes += size;
            peakLiveBytes = Math.Max(peakLiveBytes, liveBytes);
            return block;
        }
    }

    internal void Return(MemoryBuffer1D<byte, Stride1D.Dense> block)
    {
        lock (gate)
        {
            liveBytes -= block.LengthInBytes;
            if (disposed)
            {
                block.Dispose();
                return;
            }
            if (!freeBlocks.TryGetValue(block.LengthInBytes, out var stack))
                freeBlocks[block.LengthInBytes] = stack = new Stack<MemoryBuffer1D<byte, Stride1D.Dense>>();
            stack.Push(block);
        }
    }

    private MemoryBuffer1D<byte, Stride1D.Dense> AllocateOnDevice(long size)
    {
        try
        {
            return accelerator.Allocate1D<byte>(size);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            // Cached blocks of other sizes may be what stands in the way: give them back and try once more.
            Trim();
            try
            {
                return accelerator.Allocate1D<byte>(size);
            }
            catch (Exception again) when (again is OutOfMemoryException or AcceleratorException)
            {
                throw new OutOfMemoryException(
                    $"Device '{accelerator.Name}' could not allocate {size:N0} bytes " +
                    $"({liveBytes:N0} bytes live, {reservedBytes:N0} reserved).", again);
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
        }
        Trim();
    }
}
