using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>A Hugging Face model folder: its files by name, and its <c>model.safetensors</c> as a <see cref="WeightSet"/>.</summary>
internal static class ModelFolder
{
    public const string WeightsFile = "model.safetensors";

    /// <summary>The path of <paramref name="file"/> in <paramref name="folder"/>.</summary>
    /// <exception cref="CheckpointException">The folder or the file does not exist.</exception>
    public static string File(string folder, string file, string what)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full)) throw new CheckpointException(full, $"no such folder (a {what} folder holds config.json, model.safetensors and preprocessor_config.json)");
        var path = Path.Combine(full, file);
        if (!System.IO.File.Exists(path)) throw new CheckpointException(path, $"missing: a {what} folder needs {file}");
        return path;
    }

    /// <summary>
    /// Opens <c>model.safetensors</c>, lets <paramref name="build"/> take its tensors (F32 on <paramref name="device"/>),
    /// then checks that every tensor was found with its shape and none is left over (except those <paramref name="ignore"/>
    /// accepts, asked after the build); otherwise throws a <see cref="CheckpointException"/> naming the file and listing them.
    /// </summary>
    public static T Load<T>(string folder, string what, Device device, Func<WeightSet, T> build, Func<string, bool>? ignore = null) where T : IDisposable
    {
        ArgumentNullException.ThrowIfNull(device);
        var path = File(folder, WeightsFile, what);
        using var reader = SafeTensorsReader.Open(path);
        var weights = new WeightSet(what, device, DType.F32, reader.Tensors.Select(info => new WeightEntry(info.Name, reader, info, [.. info.Shape])));
        var model = build(weights);
        if (ignore is not null)
            foreach (var name in weights.Names.Where(ignore)) weights.Skip(name);
        var report = weights.Report();
        if (report.IsClean) return model;
        model.Dispose();
        throw new CheckpointException(path, $"the tensors do not match the {what} model of config.json:\n{report}");
    }
}
