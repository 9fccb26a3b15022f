namespace IlgpuDiffusion.Model.Images;

/// <summary>The value range of a float image tensor.</summary>
public enum PixelRange
{
    /// <summary>[−1, 1], what the VAE takes and returns (diffusers' default <c>do_normalize</c>).</summary>
    MinusOneToOne,

    /// <summary>[0, 1], diffusers' <c>image_0_1</c> after <c>(x / 2 + 0.5).clamp(0, 1)</c>.</summary>
    ZeroToOne,
}
