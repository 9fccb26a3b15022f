namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Recognises PyTorch pickle checkpoints (<c>.ckpt</c>, <c>.pt</c>, <c>.pth</c>, <c>.bin</c>, <c>.pkl</c>, or a file
/// whose bytes start like a pickle stream or a <c>torch.save</c> zip) and refuses them with a message that explains
/// how to convert them to safetensors.
/// </summary>
public static class PickleGuard
{
    private static readonly string[] PickleExtensions = [".ckpt", ".pt", ".pth", ".bin", ".pkl"];

    public static bool HasPickleExtension(string path) =>
        PickleExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// True when the file starts with a pickle protocol 2–5 opcode or the zip signature <c>torch.save</c> writes.
    /// Only asked after a file failed to parse as safetensors, whose first bytes are a length and can look alike.
    /// </summary>
    public static bool StartsLikePickle(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return (read >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
            || (read == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4);
    }

    public static CheckpointException Refusal(string path, Exception? inner = null) => new(path,
        "this is a PyTorch pickle checkpoint, which this engine refuses to load: unpickling can run arbitrary code. " +
        "Convert it to safetensors once, in Python, e.g. " +
        "`import torch; from safetensors.torch import save_file; " +
        "sd = torch.load('model.ckpt', map_location='cpu', weights_only=True); sd = sd.get('state_dict', sd); " +
        "save_file({k: v.contiguous() for k, v in sd.items() if isinstance(v, torch.Tensor)}, 'model.safetensors')`, " +
        "or with diffusers' scripts/convert_original_stable_diffusion_to_diffusers.py --checkpoint_path model.ckpt " +
        "--dump_path model-folder --to_safetensors; a diffusers folder with .bin weights can be re-saved with " +
        "pipe.save_pretrained(folder, safe_serialization=True).", inner);
}
