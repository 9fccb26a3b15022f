namespace IlgpuDiffusion.Evaluation.Preprocessing;

/// <summary>The Pillow resampling filters the Hugging Face image processors use, numbered as PIL numbers them (<c>resample</c> in preprocessor_config.json).</summary>
public enum ResampleFilter
{
    /// <summary>PIL.Image.BILINEAR: the triangle filter 1 − |x|, support 1.</summary>
    Bilinear = 2,

    /// <summary>PIL.Image.BICUBIC: Keys' cubic with a = −0.5, support 2.</summary>
    Bicubic = 3,
}
