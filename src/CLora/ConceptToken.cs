namespace IlgpuDiffusion.CLora;

/// <summary>A concept token: its prompt text (e.g. <c>&lt;my-dog&gt;</c>), its id, and its row in <see cref="ConceptTokens.Rows"/>.</summary>
public sealed record ConceptToken(string Text, int Id, int Row);
