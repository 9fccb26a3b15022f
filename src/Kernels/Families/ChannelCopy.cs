using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The one kernel behind <see cref="Slice"/> and <see cref="Concat"/> and their gradients: for every row (all axes
/// but the last), copy channels [sourceStart, sourceStart + length) of an F32 source into channels
/// [destinationStart, destinationStart + length) of an F32 destination with the same rows, leaving the destination's
/// other channels untouched. Callers validate; one thread per copied element.
/// </summary>
internal static class ChannelCopy
{
    private static readonly OpDispatcher<ChannelCopyArgs> copy =
        new(new KernelVariant<ChannelCopyArgs>("channel-copy-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    /// <summary>Copies the channel window; the caller has checked dtypes, devices, rows and window bounds.</summary>
    public static void Launch(Tensor source, int sourceStart, Tensor destination, int destinationStart, int length) =>
        copy.Launch(source.Device, new ChannelCopyArgs(source, destination,
            new ChannelWindow(source.Shape[-1], sourceStart, destination.Shape[-1], destinationStart, length)));

    private static void LaunchPortable(Device device, ChannelCopyArgs a)
    {
        int rows = a.Source.Count / a.Window.SourceChannels;
        device.Accelerator.LaunchAutoGrouped(CopyChannelsKernel, device.Stream, new Index1D(rows * a.Window.Length),
            a.Source.F32View, a.Destination.F32View, a.Window);
    }

    [Kernel]
    internal static void CopyChannelsKernel(Index1D i, ArrayView<float> source, ArrayView<float> destination, ChannelWindow w)
    {
        int row = i / w.Length, j = i % w.Length;
        destination[row * w.DestinationChannels + w.DestinationStart + j] = source[row * w.SourceChannels + w.SourceStart + j];
    }

    /// <summary>Channel counts of both tensors and the window copied between them.</summary>
    internal readonly record struct ChannelWindow(int SourceChannels, int SourceStart, int DestinationChannels, int DestinationStart, int Length);

    private readonly record struct ChannelCopyArgs(Tensor Source, Tensor Destination, ChannelWindow Window);
}
