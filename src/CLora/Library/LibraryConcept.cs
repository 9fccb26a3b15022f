using System.Text.Json.Serialization;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// A concept as the library holds it: its 0-based <see cref="Task"/> index (the order concepts were learned in), its
/// token text <c>&lt;name&gt;</c> and id (<see cref="ConceptLibrary.FirstTokenId"/> + task), the number of parameters
/// the library stores for it (its factors or dense delta, plus its token row), and the trainer's
/// <see cref="Record"/>.
/// </summary>
public sealed record LibraryConcept(int Task, string Token, int TokenId, long StoredParameters, ConceptRecord Record)
{
    [JsonIgnore]
    public string Name => Record.Name;
}
