using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// Latents in a safetensors file under the tensor name <see cref="TensorName"/>, NCHW <c>[N, C, h, w]</c> float32: what
/// <c>generate --init-latents</c> reads (standard-normal noise, e.g. the noise a diffusers run started from) and
/// <c>--output-latents</c> writes (the final latents, before the VAE).
/// </summary>
public static class LatentFile
{
    public const string TensorName = "latents";

    /// <summary>Reads the <c>latents</c> tensor of <paramref name="path"/> (any float dtype) as float32.</summary>
    /// <exception cref="ArgumentException">The file has no <c>latents</c> tensor, or it is not a rank-4 float tensor.</exception>
    public static HostTensor Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = SafeTensorsReader.Open(path);
        if (!file.Contains(TensorName))
            throw new ArgumentException($"'{file.Path}' has no tensor '{TensorName}' (it has {string.Join(", ", file.Tensors.Select(t => t.Name))}); " +
                $"expected '{TensorName}' as NCHW [N, C, h, w] floats.");
        var info = file.GetInfo(TensorName);
        if (info.Shape.Count != 4 || !info.DType.IsFloat())
            throw new ArgumentException($"'{file.Path}': tensor '{TensorName}' is {info.DType} [{string.Join(", ", info.Shape)}]; expected NCHW [N, C, h, w] floats.");
        return new HostTensor(file.ReadF32(TensorName), [.. info.Shape]);
    }

    /// <summary>Writes <paramref name="latents"/> as the F32 tensor <c>latents</c>, atomically.</summary>
    public static void Write(string path, HostTensor latents)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(latents);
        new SafeTensorsWriter().Add(TensorName, latents.Values, [.. latents.Shape]).Save(path);
    }
}
