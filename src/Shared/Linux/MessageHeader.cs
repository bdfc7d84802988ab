namespace EchoKit.Internal.Linux;

/// <summary>
/// The layouts of <c>struct msghdr</c>, <c>struct mmsghdr</c> and <c>struct iovec</c> on 64-bit Linux (x86-64 and
/// arm64 agree), for the callers that write them as bytes: <c>recvmsg</c> (the reflect listener),
/// <c>recvmmsg</c>/<c>sendmmsg</c> (the UDP echo's batches) and <see cref="Libc.SendMessage"/>.
/// </summary>
internal static class MessageHeader
{
    // struct msghdr { void *msg_name; socklen_t msg_namelen; (pad) struct iovec *msg_iov; size_t msg_iovlen;
    //                 void *msg_control; size_t msg_controllen; int msg_flags; (pad) }                56 bytes
    public const int Size = 56;
    public const int NameOffset = 0;
    public const int NameLengthOffset = 8;
    public const int VectorOffset = 16;
    public const int VectorCountOffset = 24;
    public const int ControlOffset = 32;
    public const int ControlLengthOffset = 40;
    public const int FlagsOffset = 48;

    // struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; (pad) }                          64 bytes
    public const int MultipleSize = 64;
    public const int MultipleLengthOffset = 56;

    // struct iovec { void *iov_base; size_t iov_len; }                                               16 bytes
    public const int IovecSize = 16;
}
