namespace Simulator.Serving;

/// <summary>How far a serving run is: the requests finished so far, counted by the serving loop as they finish. The run ends when all have.</summary>
public sealed class ServingProgress(int requests)
{
    public int Requests => requests;

    public int Finished { get; private set; }

    public bool AllFinished => Finished == requests;

    /// <summary><paramref name="count"/> more requests produced their last token.</summary>
    public void Finish(int count)
    {
        Finished += count;
        if (Finished > requests) throw new InvalidOperationException($"{Finished} requests finished of {requests}.");
    }
}
