using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>Named embedding sets saved as F32 [N, D] tensors in a safetensors file (written atomically).</summary>
public static class EmbeddingFile
{
    public static void Save(string path, IReadOnlyDictionary<string, float[][]> sets)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var writer = new SafeTensorsWriter();
        foreach (var (name, rows) in sets)
            writer.Add(name, rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
        writer.Save(path);
    }

    public static Dictionary<string, float[][]> Load(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        return reader.Tensors.ToDictionary(t => t.Name, t =>
        {
            var flat = reader.ReadF32(t.Name);
            int columns = t.Shape[1];
            return Enumerable.Range(0, t.Shape[0]).Select(r => flat.AsSpan(r * columns, columns).ToArray()).ToArray();
        });
    }
}
