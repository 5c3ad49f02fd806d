import "/dev/zero";
