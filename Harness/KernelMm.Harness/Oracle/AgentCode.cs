namespace KernelMm.Harness.Oracle;

/// <summary>
/// The oracle's agent: 346 bytes of x86-64 machine code that fork the oracle's process and
/// then run, in the child, a loop of raw system calls driven by 64-byte commands on a pipe.
/// The child never returns into libc or the .NET runtime: between its fork and its exit
/// only this code runs, on the forking thread's stack, so the runtime's own threads, GC
/// and JIT (absent in the child) cannot move its figures. No C compiler is needed to use
/// it; the source is below, assembled once with GNU as (<c>as agent.s; objcopy -O binary
/// -j .text</c>) and kept here as bytes.
/// </summary>
/// <remarks>
/// Commands (eight little-endian 64-bit words): op, then arguments. op 0 nop (replies 0);
/// 1 system call (nr, then rdi, rsi, rdx, r10, r8, r9; replies rax, -errno on failure);
/// 2 touch (addr, end, stride, write: one byte read or written per stride; replies the
/// count); 3 fork (the new agent's command and reply fds; replies the pid here, and the
/// new agent starts reading its own pipe); 4 exit_group(0). Every reply is 8 bytes. The
/// first agent closes the oracle's ends of its pipes, dies with the oracle
/// (PR_SET_PDEATHSIG), and every agent dies by itself after 120 s without a command
/// (alarm with SIGALRM at its default action), so none outlives a killed oracle for long.
/// </remarks>
internal static class AgentCode
{
    public const int CommandBytes = 64;
    public const long OpNop = 0, OpSyscall = 1, OpTouch = 2, OpFork = 3, OpExit = 4;

    // long kmm_oracle_fork(long cmd_rd, long res_wr, long cmd_wr, long res_rd):
    // the parent gets the child's pid (or -errno); the child runs the command loop.
    //     .intel_syntax noprefix
    //     .text
    //     .globl kmm_oracle_fork
    // # long kmm_oracle_fork(long cmd_rd, long res_wr, long cmd_wr, long res_rd)
    // kmm_oracle_fork:
    //     push rbx
    //     push r12
    //     push r13
    //     push r14
    //     push r15
    //     mov r12, rdi
    //     mov r13, rsi
    //     mov rbx, rdx
    //     mov r15, rcx
    //     mov eax, 57                 # fork
    //     syscall
    //     test rax, rax
    //     jz child
    //     pop r15
    //     pop r14
    //     pop r13
    //     pop r12
    //     pop rbx
    //     ret
    // child:
    //     sub rsp, 512
    //     and rsp, -64
    //     mov r14, rsp                # 64-byte command buffer, then a zeroed sigaction
    //     mov rdi, rbx                # close(cmd_wr)
    //     mov eax, 3
    //     syscall
    //     mov rdi, r15                # close(res_rd)
    //     mov eax, 3
    //     syscall
    //     mov edi, 1                  # prctl(PR_SET_PDEATHSIG, SIGKILL)
    //     mov esi, 9
    //     mov eax, 157
    //     syscall
    //     xor eax, eax                # 32 zero bytes at r14+64: SIG_DFL, no flags, empty mask
    //     mov [r14+64], rax
    //     mov [r14+72], rax
    //     mov [r14+80], rax
    //     mov [r14+88], rax
    //     mov edi, 14                 # rt_sigaction(SIGALRM, &dfl, NULL, 8)
    //     lea rsi, [r14+64]
    //     xor edx, edx
    //     mov r10d, 8
    //     mov eax, 13
    //     syscall
    // read_cmd:
    //     mov edi, 120                # alarm(120): an agent left behind dies by itself
    //     mov eax, 37
    //     syscall
    //     mov rdi, r12                # read(cmd_rd, buf, 64)
    //     mov rsi, r14
    //     mov edx, 64
    //     xor eax, eax
    //     syscall
    //     cmp rax, 64
    //     jne do_exit
    //     mov rax, [r14]
    //     cmp rax, 1
    //     je op_syscall
    //     cmp rax, 2
    //     je op_touch
    //     cmp rax, 3
    //     je op_fork
    //     cmp rax, 4
    //     je do_exit
    //     xor eax, eax                # op 0: nop
    //     jmp reply
    // op_syscall:
    //     mov rax, [r14+8]
    //     mov rdi, [r14+16]
    //     mov rsi, [r14+24]
    //     mov rdx, [r14+32]
    //     mov r10, [r14+40]
    //     mov r8,  [r14+48]
    //     mov r9,  [r14+56]
    //     syscall
    //     jmp reply
    // op_touch:
    //     mov rdi, [r14+8]            # addr
    //     mov rsi, [r14+16]           # end
    //     mov rdx, [r14+24]           # stride
    //     mov rcx, [r14+32]           # write?
    //     xor eax, eax
    // t_loop:
    //     cmp rdi, rsi
    //     jae reply
    //     test rcx, rcx
    //     jz t_read
    //     mov byte ptr [rdi], 1
    //     jmp t_next
    // t_read:
    //     movzx r8d, byte ptr [rdi]
    // t_next:
    //     inc rax
    //     add rdi, rdx
    //     jmp t_loop
    // op_fork:
    //     mov eax, 57
    //     syscall
    //     test rax, rax
    //     jnz reply                   # this agent: the new pid (or -errno)
    //     mov r12, [r14+8]            # the new agent: its own pipes
    //     mov r13, [r14+16]
    //     jmp read_cmd
    // reply:
    //     mov [r14], rax
    //     mov rdi, r13                # write(res_wr, buf, 8)
    //     mov rsi, r14
    //     mov edx, 8
    //     mov eax, 1
    //     syscall
    //     jmp read_cmd
    // do_exit:
    //     xor edi, edi
    //     mov eax, 231                # exit_group(0)
    //     syscall
    //     hlt
    public static ReadOnlySpan<byte> Bytes =>
    [
        0x53, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, 0x49, 0x89, 0xfc, 0x49, 0x89, 0xf5, 0x48,
        0x89, 0xd3, 0x49, 0x89, 0xcf, 0xb8, 0x39, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x74,
        0x0a, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3, 0x48, 0x81, 0xec, 0x00, 0x02,
        0x00, 0x00, 0x48, 0x83, 0xe4, 0xc0, 0x49, 0x89, 0xe6, 0x48, 0x89, 0xdf, 0xb8, 0x03, 0x00, 0x00,
        0x00, 0x0f, 0x05, 0x4c, 0x89, 0xff, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x01, 0x00,
        0x00, 0x00, 0xbe, 0x09, 0x00, 0x00, 0x00, 0xb8, 0x9d, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x31, 0xc0,
        0x49, 0x89, 0x46, 0x40, 0x49, 0x89, 0x46, 0x48, 0x49, 0x89, 0x46, 0x50, 0x49, 0x89, 0x46, 0x58,
        0xbf, 0x0e, 0x00, 0x00, 0x00, 0x49, 0x8d, 0x76, 0x40, 0x31, 0xd2, 0x41, 0xba, 0x08, 0x00, 0x00,
        0x00, 0xb8, 0x0d, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x78, 0x00, 0x00, 0x00, 0xb8, 0x25, 0x00,
        0x00, 0x00, 0x0f, 0x05, 0x4c, 0x89, 0xe7, 0x4c, 0x89, 0xf6, 0xba, 0x40, 0x00, 0x00, 0x00, 0x31,
        0xc0, 0x0f, 0x05, 0x48, 0x83, 0xf8, 0x40, 0x0f, 0x85, 0xa3, 0x00, 0x00, 0x00, 0x49, 0x8b, 0x06,
        0x48, 0x83, 0xf8, 0x01, 0x74, 0x1a, 0x48, 0x83, 0xf8, 0x02, 0x74, 0x34, 0x48, 0x83, 0xf8, 0x03,
        0x74, 0x5b, 0x48, 0x83, 0xf8, 0x04, 0x0f, 0x84, 0x84, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xeb, 0x66,
        0x49, 0x8b, 0x46, 0x08, 0x49, 0x8b, 0x7e, 0x10, 0x49, 0x8b, 0x76, 0x18, 0x49, 0x8b, 0x56, 0x20,
        0x4d, 0x8b, 0x56, 0x28, 0x4d, 0x8b, 0x46, 0x30, 0x4d, 0x8b, 0x4e, 0x38, 0x0f, 0x05, 0xeb, 0x46,
        0x49, 0x8b, 0x7e, 0x08, 0x49, 0x8b, 0x76, 0x10, 0x49, 0x8b, 0x56, 0x18, 0x49, 0x8b, 0x4e, 0x20,
        0x31, 0xc0, 0x48, 0x39, 0xf7, 0x73, 0x2f, 0x48, 0x85, 0xc9, 0x74, 0x05, 0xc6, 0x07, 0x01, 0xeb,
        0x04, 0x44, 0x0f, 0xb6, 0x07, 0x48, 0xff, 0xc0, 0x48, 0x01, 0xd7, 0xeb, 0xe5, 0xb8, 0x39, 0x00,
        0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x0d, 0x4d, 0x8b, 0x66, 0x08, 0x4d, 0x8b, 0x6e,
        0x10, 0xe9, 0x52, 0xff, 0xff, 0xff, 0x49, 0x89, 0x06, 0x4c, 0x89, 0xef, 0x4c, 0x89, 0xf6, 0xba,
        0x08, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xe9, 0x38, 0xff, 0xff, 0xff,
        0x31, 0xff, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xf4,
    ];
}
