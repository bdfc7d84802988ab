"""python_echo.py: an asyncio Protocol echo server, for comparison in bench/run.sh.

    python3 python_echo.py PORT [HOST]      prints "listening tcp://HOST:PORT" when bound

data_received -> transport.write. Back-pressure: when the transport's write
buffer passes its high-water mark asyncio calls pause_writing(), and we stop
reading until resume_writing(), so a slow reader cannot grow our memory.
asyncio already sets TCP_NODELAY on TCP transports.
"""
import asyncio
import signal
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()

    def eof_received(self):
        return False  # close once the write buffer is flushed


async def main(port: int, host: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, host, port, backlog=1024, reuse_address=True)
    addr = server.sockets[0].getsockname()
    shown = f"[{addr[0]}]" if server.sockets[0].family == socket.AF_INET6 else addr[0]
    print(f"listening tcp://{shown}:{addr[1]}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    async with server:
        await stop


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or not sys.argv[1].isdigit():
        print("usage: python3 python_echo.py PORT [HOST]", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) == 3 else "127.0.0.1"))
