using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.CLora;

/// <summary>One adapted layer of an <see cref="AdapterSet"/>: its diffusers name, the layer, and its adapter.</summary>
public sealed record AdaptedLayer(string Name, LinearLayer Layer, LoraAdapter Adapter);
