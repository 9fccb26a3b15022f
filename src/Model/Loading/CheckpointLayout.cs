namespace IlgpuDiffusion.Model.Loading;

/// <summary>How a checkpoint's files are organised.</summary>
public enum CheckpointLayout
{
    /// <summary>A diffusers folder: <c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c> each with config.json and weights.</summary>
    DiffusersFolder,

    /// <summary>One CompVis/LDM <c>.safetensors</c> file holding all three networks.</summary>
    SingleFile,
}
