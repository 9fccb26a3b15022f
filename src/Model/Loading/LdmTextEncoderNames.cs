namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// The text encoder's names in a single file (<c>cond_stage_model.transformer.*</c> without that prefix) → the
/// transformers names a diffusers folder uses (<c>text_model.*</c>). Files written by transformers ≥ 4.x already
/// say <c>text_model.embeddings…</c>; older ones omit <c>text_model.</c> (<c>embeddings.*</c>, <c>encoder.*</c>,
/// <c>final_layer_norm.*</c>). Inner names are the same in both.
/// </summary>
internal static class LdmTextEncoderNames
{
    public static ModuleRenamer Names { get; } = new ModuleRenamer()
        .Add("text_model", "text_model")
        .Add("embeddings", "text_model.embeddings")
        .Add("encoder", "text_model.encoder")
        .Add("final_layer_norm", "text_model.final_layer_norm");
}
