namespace IlgpuDiffusion.CLora.Interop;

/// <summary>A tensor of a LoRA file that was not applied, and why (no such module, an unsupported extension, a shape that does not fit…).</summary>
public sealed record LoraUnmatchedKey(string Key, string Reason)
{
    public override string ToString() => $"{Key}: {Reason}";
}
