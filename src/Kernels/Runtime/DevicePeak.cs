namespace IlgpuDiffusion.Kernels;

/// <summary>A device's datasheet peaks, the roofline benchmarks compare against; null where unknown (the CPU accelerator, an unlisted GPU).</summary>
/// <param name="Fp32TFlops">Dense fp32 without tensor cores, TFLOP/s.</param>
/// <param name="Fp16TensorTFlops">Dense fp16 on tensor cores, TFLOP/s.</param>
/// <param name="BandwidthTBs">Device memory bandwidth, TB/s.</param>
public sealed record DevicePeak(double? Fp32TFlops, double? Fp16TensorTFlops, double? BandwidthTBs)
{
    /// <summary>NVIDIA datasheets, dense (no sparsity); the first entry whose text the device's name contains wins.</summary>
    private static readonly (string NameContains, double Fp32, double Fp16Tensor, double Bandwidth)[] datasheet =
    [
        ("H100 PCIe", 51, 756, 2.0),
        ("H100 NVL", 60, 835, 3.9),
        ("H100", 67, 989, 3.35),   // SXM5, e.g. "NVIDIA H100 80GB HBM3"
        ("H200", 67, 989, 4.8),
    ];

    /// <summary>The peaks of <paramref name="device"/>: all unknown on the CPU accelerator and on unlisted GPUs.</summary>
    public static DevicePeak Of(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.IsCpu) return new(null, null, null);
        foreach (var p in datasheet)
            if (device.Name.Contains(p.NameContains, StringComparison.OrdinalIgnoreCase))
                return new(p.Fp32, p.Fp16Tensor, p.Bandwidth);
        return new(null, null, null);
    }
}
