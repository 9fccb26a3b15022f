using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary>
/// The <c>--input</c> file of the <c>forward</c> command: reads the tensors a component takes onto the device, with
/// errors that name the file, the tensor, the component and what was expected. Tensors nobody asks for are ignored.
/// </summary>
internal sealed class ForwardInputs(SafeTensorsReader file, Device device, string component)
{
    /// <summary>
    /// Tensor <paramref name="name"/> as <paramref name="dtype"/> (I32 for integer data such as token ids, which
    /// safetensors files usually hold as I64; F32 for floats), whose rank is the number of <paramref name="axes"/>
    /// (their names are for messages, e.g. "N", "C", "H", "W").
    /// </summary>
    public Tensor Read(string name, DType dtype, params string[] axes)
    {
        if (!file.Contains(name))
            throw new ArgumentException($"--input '{file.Path}' has no tensor '{name}', which the {component} component reads " +
                $"([{string.Join(", ", axes)}]; it has {string.Join(", ", file.Tensors.Select(t => t.Name))}).");
        var info = file.GetInfo(name);
        if (info.Shape.Count != axes.Length)
            throw new ArgumentException($"--input '{file.Path}': tensor '{name}' has shape [{string.Join(", ", info.Shape)}]; " +
                $"the {component} component expects rank {axes.Length}: [{string.Join(", ", axes)}].");
        if (info.DType.IsFloat() != (dtype != DType.I32))
            throw new ArgumentException($"--input '{file.Path}': tensor '{name}' is {info.DType}; the {component} component expects " +
                (dtype == DType.I32 ? "integers (I64 or I32)." : "floats (F32, F16, BF16 or F64)."));
        try
        {
            return file.ReadTensor(device, name, dtype);
        }
        catch (OverflowException e)
        {
            throw new ArgumentException($"--input: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether tensor <paramref name="name"/> holds floats rather than integers, for inputs that take either (the
    /// UNet's timesteps); false when the file lacks it, so <see cref="Read"/> then reports it missing.
    /// </summary>
    public bool HoldsFloats(string name) => file.Contains(name) && file.GetInfo(name).DType.IsFloat();

    /// <summary>An NCHW float tensor with <paramref name="channels"/> channels, converted to the engine's NHWC.</summary>
    public Tensor ReadImage(string name, int channels)
    {
        using var nchw = Read(name, DType.F32, "N", "C", "H", "W");
        if (nchw.Shape[1] != channels)
            throw new ArgumentException($"--input: tensor '{name}' has shape {nchw.Shape}; the {component} component expects " +
                $"{channels} channels: [N, {channels}, H, W].");
        return Layout.NchwToNhwc(nchw);
    }
}
