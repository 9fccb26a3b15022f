using System.Text.Json;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>The metric fixtures (../shared/fixtures/eval/reference): embedding sets as rows and the reference JSON.</summary>
internal static class MetricFixtures
{
    public static string ReferencePath(string file) => Fixtures.Path("eval", "reference", file);

    /// <summary>A 2-D F32 tensor of a reference file as one float[] per row.</summary>
    public static float[][] Rows(string file, string tensor)
    {
        using var reader = SafeTensorsReader.Open(ReferencePath(file));
        var shape = reader.GetInfo(tensor).Shape;
        var flat = reader.ReadF32(tensor);
        int rows = shape[0], columns = shape[1];
        return [.. Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * columns, columns).ToArray())];
    }

    public static JsonElement Json(string file) => JsonDocument.Parse(File.ReadAllText(ReferencePath(file))).RootElement;
}
