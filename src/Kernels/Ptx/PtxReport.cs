using System.Text;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Formats a <see cref="PtxValidationResult"/> as the text of <c>report.txt</c>: a header, a fixed-width table
/// with one line per kernel (registers, spills, shared memory, stack), then the failures with their messages and
/// ptxas's warnings.
/// </summary>
public static class PtxReport
{
    public static string Format(PtxValidationResult result)
    {
        var text = new StringBuilder();
        text.AppendLine($"PTX check: {result.Architecture.Name}, PTX ISA {PtxCompiler.IsaVersion}, ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version?.ToString(3)}, ptxas {result.PtxasVersion}");
        text.AppendLine($"kernels: {result.Kernels.Count}, failed: {result.Failures.Count}");
        text.AppendLine();

        int width = Math.Max("kernel".Length, result.Kernels.Select(k => k.Name.Length).DefaultIfEmpty(0).Max());
        text.AppendLine($"{"kernel".PadRight(width)}  {"registers",9}  {"spill stores (B)",16}  {"spill loads (B)",15}  {"shared (B)",10}  {"stack (B)",9}");
        foreach (var kernel in result.Kernels)
        {
            var r = kernel.Resources;
            text.AppendLine(r is null
                ? $"{kernel.Name.PadRight(width)}  FAILED"
                : $"{kernel.Name.PadRight(width)}  {r.Registers,9}  {r.SpillStoreBytes,16}  {r.SpillLoadBytes,15}  {r.SharedMemoryBytes,10}  {r.StackFrameBytes,9}");
        }

        AppendSection(text, "failures", result.Failures.Select(k => (k.Name, (IEnumerable<string>)[k.Failure!])));
        AppendSection(text, "warnings", result.Kernels.Where(k => k.Warnings.Count > 0).Select(k => (k.Name, (IEnumerable<string>)k.Warnings)));
        return text.ToString();
    }

    private static void AppendSection(StringBuilder text, string title, IEnumerable<(string Kernel, IEnumerable<string> Messages)> items)
    {
        var list = items.ToList();
        if (list.Count == 0) return;
        text.AppendLine().AppendLine($"{title}:");
        foreach (var (kernel, messages) in list)
        {
            text.AppendLine($"{kernel}:");
            foreach (var line in messages.SelectMany(m => m.Split('\n')))
                text.AppendLine($"    {line.TrimEnd()}");
        }
    }
}
