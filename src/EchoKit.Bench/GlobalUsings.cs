global using System.Diagnostics.CodeAnalysis;
