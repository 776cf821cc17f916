#include "tests/output/test_profiles.h"

#include <initializer_list>

namespace pyhang::testing {
namespace {

using profile::Frame;
using profile::FrameKind;
using profile::Profile;

Frame Py(const std::string& name, const std::string& file, int line) {
  return Frame{FrameKind::kPython, name, file, line};
}

void Add(Profile& profile, std::initializer_list<Frame> frames, int64_t tid, const std::string& thread,
         uint64_t count) {
  std::vector<uint32_t> stack;
  for (const Frame& frame : frames) stack.push_back(profile.InternFrame(frame));
  profile.AddSample(profile.InternStack(stack), profile.InternThread(tid, thread), count,
                    count * 10'000'000);  // 10 ms per sample
}

void SetMetadata(Profile& profile, const std::string& title) {
  profile.title = title;
  profile.subtitle = "pid 42, 1 s at 100 Hz, cpu mode";
  profile.sample_period_ns = 10'000'000;
  profile.start_time_ns = 1'700'000'000'000'000'000;
  profile.duration_ns = 1'000'000'000;
}

}  // namespace

Profile SmallProfile() {
  Profile profile;
  SetMetadata(profile, "pyhang test");
  const Frame main = Py("main", "/home/u/app/main.py", 10);
  const Frame work = Py("work", "/home/u/app/main.py", 20);
  const Frame run = Py("Thread.run", "/usr/lib/python3.11/threading.py", 1010);
  const Frame wait = Py("Condition.wait", "/usr/lib/python3.11/threading.py", 320);
  Add(profile, {main, work, Py("helper", "/home/u/app/util.py", 5)}, 101, "MainThread", 5);
  Add(profile, {main, work}, 101, "MainThread", 3);
  Add(profile, {main, Py("get", "/usr/lib/python3/dist-packages/requests/api.py", 73)}, 101, "MainThread", 2);
  Add(profile, {run, wait, Frame{FrameKind::kState, "[lock_wait]", "", 0}}, 102, "worker", 4);
  Add(profile, {run, Frame{FrameKind::kNative, "PyObject_Call", "libpython3.11.so.1.0", 0}}, 102, "worker", 1);
  return profile;
}

std::string SmallProfileCollapsed() {
  // Sorted bytewise, as `sort` with LC_ALL=C would: 'T' < 'm'.
  return "Thread.run (/usr/lib/python3.11/threading.py:1010);Condition.wait "
         "(/usr/lib/python3.11/threading.py:320);[lock_wait] 4\n"
         "Thread.run (/usr/lib/python3.11/threading.py:1010);PyObject_Call (libpython3.11.so.1.0) 1\n"
         "main (/home/u/app/main.py:10);get (/usr/lib/python3/dist-packages/requests/api.py:73) 2\n"
         "main (/home/u/app/main.py:10);work (/home/u/app/main.py:20) 3\n"
         "main (/home/u/app/main.py:10);work (/home/u/app/main.py:20);helper (/home/u/app/util.py:5) 5\n";
}

std::vector<std::string> HostileNames() {
  return {
      "<script>alert(1)</script>",
      "\"><img src=x onerror=alert(1)>",
      "]]></script><script>alert(2)</script><!--",
      "</title><g onclick=\"alert(3)\">&amp;&#x3c;",
      "x' onmouseover='alert(4)",
      "bad\xff\xfe utf8 \x01 control\u2028sep",
  };
}

Profile HostileProfile() {
  Profile profile;
  SetMetadata(profile, "<script>alert('title')</script>");
  profile.subtitle = "]]><!-- \"subtitle\" -->";
  const std::vector<std::string> names = HostileNames();
  const Frame root = Py("main", "/srv/<img src=x onerror=alert(5)>/app.py", 1);
  Add(profile, {root, Py(names[0], "/srv/app/<b>bold</b>.py", 11)}, 7, "\"><svg onload=alert(6)>", 40);
  Add(profile, {root, Py(names[0], "/srv/app/<b>bold</b>.py", 11), Py(names[1], "/srv/app/x.py", 12)}, 7,
      "\"><svg onload=alert(6)>", 30);
  Add(profile, {root, Py(names[2], "/usr/lib/python3.12/<script>.py", 13)}, 8, "worker</title>", 20);
  Add(profile, {root, Py(names[3], "/venv/lib/python3.12/site-packages/pkg/m.py", 14)}, 8, "worker</title>", 15);
  Add(profile, {root, Frame{FrameKind::kNative, names[4], "lib<evil>.so", 0}}, 8, "worker</title>", 10);
  Add(profile, {root, Py(names[5], "/srv/app/\xc3\x28.py", 15)}, 7, "\"><svg onload=alert(6)>", 10);
  Add(profile, {root, Frame{FrameKind::kState, "[lock_wait <i>]", "", 0}}, 8, "worker</title>", 5);
  return profile;
}

}  // namespace pyhang::testing
