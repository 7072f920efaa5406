// The little JavaScript the manual asks for: the registration notice countdown.
(function () {
  "use strict";
  var btn = document.getElementById("accept-notice");
  if (btn) {
    var left = parseInt(btn.getAttribute("data-countdown"), 10) || 0;
    var label = document.getElementById("countdown");
    var tick = function () {
      if (left <= 0) {
        btn.disabled = false;
        if (label) label.textContent = "请点击“我已阅读以上须知”继续";
        return;
      }
      if (label) label.textContent = "请阅读须知，" + left + "秒后可继续";
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }
})();
