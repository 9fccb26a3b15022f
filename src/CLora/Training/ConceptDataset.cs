using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// A concept's training images (docs/clora-spec.md §4–5), prepared once: every PNG/JPEG of a folder resized and
/// centre-cropped to the resolution, encoded by the VAE (and again mirrored, unless flipping is off), and paired with
/// its prompts. The latents are the posterior <b>mean</b> × the scaling factor: a cached latent is reused every
/// epoch, so a single sample would freeze one draw of VAE noise anyway; the mean is that draw's expectation and needs
/// no seed. A <c>name.txt</c> caption beside <c>name.png</c> replaces the templates for that image (<c>{}</c> in it,
/// if any, becomes the token); otherwise the prompts are <see cref="DefaultTemplates"/>, without the class word
/// (spec §4: "a photo of V*", not "a photo of V* dog").
/// </summary>
public sealed class ConceptDataset
{
    /// <summary>The prompt templates, <c>{}</c> standing for the concept token (Custom Diffusion's, class word removed).</summary>
    public static readonly IReadOnlyList<string> DefaultTemplates =
    [
        "a photo of {}", "a rendering of {}", "a cropped photo of {}", "the photo of {}", "a close-up photo of {}",
        "a bright photo of {}", "a good photo of {}", "a photo of the {}", "a dark photo of {}", "a photo of a clean {}",
    ];

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    private ConceptDataset(IReadOnlyList<ConceptExample> examples, int latentSize, int latentChannels)
    {
        Examples = examples;
        LatentSize = latentSize;
        LatentChannels = latentChannels;
    }

    /// <summary>The prepared images, in file-name order.</summary>
    public IReadOnlyList<ConceptExample> Examples { get; }

    /// <summary>The latents' side, resolution / the VAE's downscale factor.</summary>
    public int LatentSize { get; }

    /// <summary>The latents' channel count.</summary>
    public int LatentChannels { get; }

    /// <summary>Prepares every image of <paramref name="folder"/> for <paramref name="tokenText"/> (e.g. <c>&lt;my-dog&gt;</c>).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The folder holds no PNG or JPEG image.</exception>
    public static ConceptDataset Load(
        string folder, string tokenText, ClipTokenizer tokenizer, AutoencoderKL vae, Device device, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenText);
        return Load(folder, "concept image folder", file => [.. Prompts(file).Select(p => p.Replace("{}", tokenText, StringComparison.Ordinal))],
            tokenizer, vae, device, options);
    }

    /// <summary>
    /// Prepares the generic class images of prior preservation in <paramref name="folder"/>: encoded and flipped as a
    /// concept's, every one paired with <paramref name="classPrompt"/> (e.g. "a photo of a dog"; captions are ignored).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The folder holds no PNG or JPEG image, or the prompt is blank.</exception>
    public static ConceptDataset LoadClassImages(
        string folder, string classPrompt, ClipTokenizer tokenizer, AutoencoderKL vae, Device device, TrainerOptions options)
    {
        if (string.IsNullOrWhiteSpace(classPrompt)) throw new ArgumentException("the class prompt of prior preservation is blank.", nameof(classPrompt));
        return Load(folder, "class image folder", _ => [classPrompt], tokenizer, vae, device, options);
    }

    private static ConceptDataset Load(string folder, string kind, Func<string, IReadOnlyList<string>> prompts,
        ClipTokenizer tokenizer, AutoencoderKL vae, Device device, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{kind} '{folder}' does not exist.");
        var files = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new ArgumentException($"{kind} '{folder}' holds no image (.png, .jpg, .jpeg).", nameof(folder));
        int factor = 1 << (vae.Config.BlockOutChannels.Count - 1);
        if (options.Resolution % factor != 0)
            throw new ArgumentException($"resolution {options.Resolution} is not a multiple of the VAE's factor {factor}.", nameof(options));
        var examples = files.Select(file =>
        {
            var image = ImageFile.Read(file).ResizeAndCenterCrop(options.Resolution, options.Resolution);
            var variants = options.FlipHorizontal ? new[] { image, image.FlipHorizontal() } : [image];
            var ids = prompts(file).Select(p => tokenizer.Encode(p)).ToList();
            return new ConceptExample(file, [.. variants.Select(v => Encode(vae, device, v))], ids);
        }).ToList();
        return new ConceptDataset(examples, options.Resolution / factor, vae.Config.LatentChannels);
    }

    /// <summary>The batches of a run over this dataset (<see cref="ConceptBatchSource"/>).</summary>
    public IBatchSource Batches(Device device, TrainerOptions options, int trainTimesteps) =>
        new ConceptBatchSource(this, device, options, trainTimesteps);

    /// <summary>The caption beside <paramref name="file"/> if there is one, otherwise the templates.</summary>
    private static IReadOnlyList<string> Prompts(string file)
    {
        string caption = Path.ChangeExtension(file, ".txt");
        return File.Exists(caption) ? [File.ReadAllText(caption).Trim()] : DefaultTemplates;
    }

    /// <summary>The posterior mean of one image × the scaling factor, channels-last [h, w, C].</summary>
    private static float[] Encode(AutoencoderKL vae, Device device, RgbImage image)
    {
        var nhwc = ImageTensor.NchwToNhwc(ImageTensor.ToNchw(image), 1, 3, image.Height, image.Width);
        float[] mean;
        using (Grad.NoGrad())
        using (var input = Var.Constant(Tensor.FromHost(device, nhwc, 1, image.Height, image.Width, 3)))
        {
            var (m, logVar) = vae.Encode(input);
            using (m)
            using (logVar)
                mean = m.Value.ToFloatArray();
        }
        float scale = (float)vae.Config.ScalingFactor;
        for (int i = 0; i < mean.Length; i++) mean[i] *= scale;
        return mean;
    }
}
